/* trosyn-admin: hub administration commands on the state directory and the control socket. */
#ifndef TROSYN_ADMIN_H
#define TROSYN_ADMIN_H

/* Run trosyn-admin with ARGC/ARGV; returns the exit status (0, 1 runtime, 2 usage). */
int admin_main(int argc, char **argv);

#endif /* TROSYN_ADMIN_H */
