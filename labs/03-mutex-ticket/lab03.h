/* lab03.h - the scenarios of lab 3 (mutual exclusion), one run() per scenario, shared by main.c. */
#ifndef LAB03_H
#define LAB03_H

int tickets_run(const char *mode);       /* tickets.c */
int money_run(const char *mode);         /* money.c */
int counter_run(const char *mode);       /* counter.c */
int counter_bench(void);                 /* counter.c: `lab03 --bench` */
int lockflag_run(const char *mode);      /* threads.c */
int lockapi_run(const char *mode);       /* threads.c */
int jobs_run(const char *mode);          /* threads.c */
int shared_list_run(const char *mode);   /* threads.c */
int shared_value_run(const char *mode);  /* shared.c */
int robust_run(const char *mode);        /* shared.c */

/* Thread stacks for scenarios with many threads (money: 100 by default, up to 1000). */
#define LAB03_STACK_BYTES (256u * 1024u)

#endif
