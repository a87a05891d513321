/* SPDX-License-Identifier: MIT */
/*
 * fuzz_outcome - fuzz harness for transport/outcome.c
 *
 * Input: for each recipient (1 to 8), a state byte, then a DSN and a
 * reason (NUL-terminated); a last DSN and reason go to outcome_defer().
 *
 * Properties: a recipient's DSN always has its state's class (2, 4 or
 * 5) and fits its field. outcome_decide() exits 0 with no text when
 * every recipient was sent, or when the classes are mixed, and then
 * hands back exactly the classes that are present; 75 with a "4" text
 * when no recipient was sent or bounced; 69 with a "5" text when every
 * recipient bounced. No pipe(8) status line is longer than its field.
 * outcome_defer() always exits 75 with a "4" text, and drops any
 * hand-back.
 */

#include "fuzz.h"
#include "msg/outcome.h"

#define RCPTS_MAX	8

/* class_of - the DSN class a state must carry */

static char class_of(enum rcpt_state state)
{
    return (state == RCPT_SENT ? '2' : state == RCPT_PERM ? '5' : '4');
}

/* check_decide - the exit status for the recipients */

static void check_decide(const struct rcpt *rcpts, int count)
{
    struct outcome out;
    int     sent = 0;
    int     perm = 0;
    int     temp = 0;
    int     i;

    for (i = 0; i < count; i++) {
	sent += rcpts[i].state == RCPT_SENT;
	perm += rcpts[i].state == RCPT_PERM;
	temp += rcpts[i].state == RCPT_TEMP || rcpts[i].state == RCPT_PENDING;
    }
    outcome_decide(rcpts, count, &out);
    FUZZ_ASSERT(strnlen(out.text, sizeof(out.text)) < sizeof(out.text),
		"text not terminated");
    if (temp == 0 && perm == 0) {
	FUZZ_ASSERT(out.status == EXIT_SENT && out.text[0] == 0, "all sent");
    } else if (sent == 0 && perm == 0) {
	FUZZ_ASSERT(out.status == EXIT_DEFER && out.text[0] == '4',
		    "all temporary: %d \"%s\"", out.status, out.text);
    } else if (sent == 0 && temp == 0) {
	FUZZ_ASSERT(out.status == EXIT_BOUNCE && out.text[0] == '5',
		    "all permanent: %d \"%s\"", out.status, out.text);
    } else {
	FUZZ_ASSERT(out.status == EXIT_SENT && out.text[0] == 0
		    && out.handback_temp == (temp > 0)
		    && out.handback_perm == (perm > 0), "mixed");
    }
}

/* LLVMFuzzerTestOneInput - one request's recipients */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    static struct rcpt rcpts[RCPTS_MAX];
    struct outcome out;
    int     count = 1 + (int) (fuzz_take_byte(&in) % RCPTS_MAX);
    char   *dsn;
    char   *reason;
    int     i;

    for (i = 0; i < count; i++) {
	memset(&rcpts[i], 0, sizeof(rcpts[i]));
	rcpts[i].addr = "a@example.org";
	rcpts[i].state = (enum rcpt_state) (fuzz_take_byte(&in) % 4);
	dsn = fuzz_take_str(&in);
	reason = fuzz_take_str(&in);
	rcpt_set(&rcpts[i], rcpts[i].state, *dsn ? dsn : 0, "%s", reason);
	FUZZ_ASSERT(rcpts[i].dsn[0] == class_of(rcpts[i].state)
		    && strnlen(rcpts[i].dsn, sizeof(rcpts[i].dsn))
		    < sizeof(rcpts[i].dsn), "dsn \"%s\" for state %d",
		    rcpts[i].dsn, rcpts[i].state);
	free(dsn);
	free(reason);
    }
    check_decide(rcpts, count);
    dsn = fuzz_take_str(&in);
    reason = fuzz_take_str(&in);
    memset(&out, 0, sizeof(out));
    out.handback_temp = out.handback_perm = 1;
    outcome_defer(&out, dsn, "%s", reason);
    FUZZ_ASSERT(out.status == EXIT_DEFER && out.text[0] == '4'
		&& !out.handback_temp && !out.handback_perm,
		"defer: %d \"%s\"", out.status, out.text);
    free(dsn);
    free(reason);
    return (0);
}
