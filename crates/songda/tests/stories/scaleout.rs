//! Scale-out: many processes on one PostgreSQL and one bucket, and the faults they meet.
