// Runtime input of the verify target: a constant for static checks, a fresh value whenever GROUNDWORK_LIVE is
// set, so a verify against the running cluster is never answered from the cache.
process.stdout.write(process.env.GROUNDWORK_LIVE ? `live-${process.hrtime.bigint()}-${Math.random()}` : 'static');
