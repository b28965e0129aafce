/* p2pd: the node daemon. Everything happens in node/init.c. */
#include "node/init.h"

int main(int argc, char **argv)
{
	return node_main(argc, argv);
}
