#ifndef RR_CALLBACKS_H
#define RR_CALLBACKS_H

/* callbacks.h - the libmilter callbacks of rrelay-milter */

extern int cb_register(void);

#endif
