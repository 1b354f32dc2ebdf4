/*
 * events.h - the allocator's event loop, in the manner of Redis' ae.c: a file
 * descriptor is registered together with the function that handles it
 * becoming readable (or hung up), or writable (dsm's own stdout and stderr,
 * while node output waits for room), and ev_run() waits for all of them in
 * one poll(). Registrations come and go while the loop runs (a joining
 * connection, a node's output pipe while it has room, a proxy's control
 * socket); nothing has a fixed position.
 *
 * One turn is one poll(). Its handlers run in two rounds: first every ready
 * registration made with ev_add(), then every ready one made with
 * ev_add_late(), each round in registration order. A registration deleted
 * during a turn is not called for the rest of that turn, even when its fd
 * number is reused at once; one added during a turn waits for the next.
 */
#ifndef DSM_EVENTS_H
#define DSM_EVENTS_H

struct ev_loop;

typedef void (*ev_handler)(struct ev_loop *loop, int fd, void *ctx);

/* An empty loop, or NULL when out of memory. */
struct ev_loop *ev_create(void);
/* Frees the loop; closes nothing. */
void ev_destroy(struct ev_loop *loop);

/* Call fn(loop, fd, ctx) whenever fd is readable. 0, or -1 with errno:
 * ENOMEM, EEXIST (fd is registered already), EBADF (fd < 0). */
int ev_add(struct ev_loop *loop, int fd, ev_handler fn, void *ctx);
/* The same, in the second round of every turn. */
int ev_add_late(struct ev_loop *loop, int fd, ev_handler fn, void *ctx);
/* Call fn(loop, fd, ctx) whenever fd has room to write (or an error), in
 * the first round. A descriptor is watched for reading or for writing. */
int ev_add_writable(struct ev_loop *loop, int fd, ev_handler fn, void *ctx);
/* Forget fd (before it is closed); nothing happens if it is not registered. */
void ev_del(struct ev_loop *loop, int fd);

/*
 * Turn after turn until done(ctx) is true, checked before every poll().
 * 0, or -1 with errno when poll() fails (EINTR is retried).
 */
int ev_run(struct ev_loop *loop, int (*done)(void *ctx), void *ctx);

#endif /* DSM_EVENTS_H */
