-- Where the 502s were born (edge, gateway, upstream, unknown): the report's
-- born.totals. `born_at` is set on each 502 the client got (the outermost
-- hop's record of the request), so each 502 counts once however many hops
-- logged it.
SELECT born_at, COUNT(*) AS status_502
FROM requests
WHERE born_at IS NOT NULL
GROUP BY born_at
ORDER BY status_502 DESC, born_at
