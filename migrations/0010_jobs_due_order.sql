-- Due jobs in the order runners claim them (`order by run_at, id`): a claim reads the few it
-- takes from the front of this index, where one on `run_at` alone made it sort every due job
-- first, so that draining a backlog cost in proportion to its size at every claim.
drop index jobs_due;
create index jobs_due on jobs (run_at, id) where done_at is null and failed_at is null;
