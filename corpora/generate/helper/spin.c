// SPDX-License-Identifier: GPL-2.0
/*
 * spin: busy-loop on one CPU for a while, optionally as a SCHED_FIFO task
 * (busybox has no chrt).  Part of lockscan's capture generator.
 *
 *   spin [-f PRIO] [-c CPU] SECONDS
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int prio = 0, cpu = -1, opt;
	double seconds, end;
	volatile unsigned long n = 0;

	while ((opt = getopt(argc, argv, "f:c:")) != -1) {
		switch (opt) {
		case 'f': prio = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: spin [-f PRIO] [-c CPU] SECONDS\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: spin [-f PRIO] [-c CPU] SECONDS\n");
		return 2;
	}
	seconds = atof(argv[optind]);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("spin: sched_setaffinity");
			return 1;
		}
	}
	if (prio > 0) {
		struct sched_param sp = { .sched_priority = prio };

		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			perror("spin: sched_setscheduler");
			return 1;
		}
	}
	fprintf(stderr, "spin: pid %d on cpu %d, %s prio %d, %.0f s\n", getpid(), sched_getcpu(),
		prio > 0 ? "SCHED_FIFO" : "SCHED_OTHER", prio, seconds);
	end = now() + seconds;
	while (now() < end)
		n++;
	fprintf(stderr, "spin: pid %d done\n", getpid());
	return 0;
}
