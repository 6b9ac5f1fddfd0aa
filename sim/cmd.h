/*
 * cmd.h: the subcommands of the leansim CLI.  Each takes the arguments after
 * its name (argv[0] is the subcommand) and returns the process exit code:
 * 0 on success, 1 on a run-time failure, 2 on bad input.
 */
#ifndef LEANSIM_CMD_H
#define LEANSIM_CMD_H

int cmd_gpus(int argc, char **argv);
int cmd_simulate(int argc, char **argv);

#endif
