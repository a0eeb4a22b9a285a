/* lab03.h - the scenarios of lab 3 (mutual exclusion), one run() per scenario, shared by main.c. */
#ifndef LAB03_H
#define LAB03_H

int tickets_run(int mode_index);       /* tickets.c */
int money_run(int mode_index);         /* money.c */
int counter_run(int mode_index);       /* counter.c */
int counter_bench(void);                 /* counter.c: `lab03 --bench` */
int lockflag_run(int mode_index);      /* threads.c */
int lockapi_run(int mode_index);       /* threads.c */
int jobs_run(int mode_index);          /* threads.c */
int shared_list_run(int mode_index);   /* threads.c */
int shared_value_run(int mode_index);  /* shared.c */
int robust_run(int mode_index);        /* shared.c */

/* Thread stacks for scenarios with many threads (money: 100 by default, up to 1000). */
#define LAB03_STACK_BYTES (256u * 1024u)

#endif
