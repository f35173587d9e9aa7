/* trosyn-admin: command-line entry point. */
#include "config.h"

#include "admin.h"

int
main(int argc, char **argv)
{
	return admin_main(argc, argv);
}
