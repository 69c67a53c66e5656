/*
 * virt-shadow.c: the admin command
 */
#include <config.h>

#include <locale.h>

#include "cli/vscli.h"
#include "vsdrivers.h"

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    vsDriversInit();
    return vsCliMain(argc, argv);
}
