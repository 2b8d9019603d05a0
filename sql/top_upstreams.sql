-- The upstreams the 502s came from: the address of the last attempt that
-- failed (nginx; else the upstream its error log names), the next hop
-- (backend/server, address) for the other hop formats. The report's
-- top_upstreams table (which writes `hop: key` when several hops of one
-- dump name upstreams).
SELECT hop_format, upstream_addr, COUNT(*) AS status_502
FROM requests
WHERE status = 502 AND upstream_addr IS NOT NULL
GROUP BY hop_format, upstream_addr
ORDER BY status_502 DESC, hop_format, upstream_addr
LIMIT 20
