-- One dispatcher sweeps at a time across every API process. A lease with a time limit, taken
-- and renewed by single statements, rather than an advisory lock held on a connection while
-- Temporal is called: nothing stays locked across a call to Temporal, and a holder that hangs
-- or is cut off loses the lease when it runs out.
CREATE TABLE dispatch_lease (
  id      integer PRIMARY KEY CHECK (id = 1),
  holder  text NOT NULL,
  until   timestamptz NOT NULL
);
