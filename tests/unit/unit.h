/* SPDX-License-Identifier: MIT */
#ifndef RR_UNIT_H
#define RR_UNIT_H

/* unit.h - run one Check suite and turn failures into the exit status */

#include <check.h>
#include <stdlib.h>

/* run_suite - run every test of the suite; exit status 1 on any failure */

static inline int run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    int     failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

#endif
