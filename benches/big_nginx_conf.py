#!/usr/bin/env python3
"""Generate a big nginx config tree for `gatecheck lint` (README, lint "Speed").

usage: benches/big_nginx_conf.py OUT_DIR [BYTES]   (default 100 MB)

OUT_DIR/nginx.conf: 15 http-level directives, `include upstreams.conf`
(1,000 upstreams of two servers) and `include sites/*.conf`; each site file
holds 5 servers of 40 `location` blocks, each with a nested regex location,
`proxy_pass` to an upstream and `include snippets/proxy.conf` (4 directives):
the http-level settings are inherited by every server and location, and
the snippet is included in every location, as real sites do. nginx -t
accepts it.
"""
import os, sys
out = sys.argv[1]; target = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000_000
os.makedirs(f"{out}/sites", exist_ok=True); os.makedirs(f"{out}/snippets", exist_ok=True)
with open(f"{out}/snippets/proxy.conf", "w") as f:
    f.write("proxy_set_header Host $host;\nproxy_set_header X-Real-IP $remote_addr;\n"
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\nproxy_http_version 1.1;\n")
with open(f"{out}/upstreams.conf", "w") as f:
    for u in range(1000):
        f.write(f"upstream app{u} {{\n    server 10.0.{u//250}.{u%250+1}:8080 max_fails=3 fail_timeout=10s;\n"
                f"    server 10.1.{u//250}.{u%250+1}:8080 max_fails=3 fail_timeout=10s;\n    keepalive 16;\n}}\n")
with open(f"{out}/nginx.conf", "w") as f:
    f.write("worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n"
            "    log_format main '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
            "\"$http_referer\" \"$http_user_agent\" $upstream_addr $upstream_status $request_time $upstream_response_time';\n"
            "    access_log /var/log/nginx/access.log main;\n    sendfile on;\n    keepalive_timeout 65;\n"
            "    proxy_connect_timeout 5s;\n    proxy_read_timeout 30s;\n    proxy_send_timeout 30s;\n"
            "    proxy_next_upstream error timeout http_502;\n    proxy_next_upstream_tries 3;\n"
            "    proxy_buffer_size 16k;\n    proxy_buffers 8 16k;\n    client_max_body_size 10m;\n"
            "    gzip on;\n    gzip_types text/plain application/json;\n"
            "    include snippets/proxy.conf;\n    include upstreams.conf;\n    include sites/*.conf;\n}\n")
size = sum(os.path.getsize(f"{out}/{p}") for p in ("nginx.conf", "upstreams.conf", "snippets/proxy.conf"))
site = 0
while size < target:
    path = f"{out}/sites/site{site:05}.conf"
    with open(path, "w") as f:
        for s in range(5):
            n = site * 5 + s
            f.write(f"server {{\n    listen 80;\n    server_name s{n}.example.com;\n"
                    f"    access_log /var/log/nginx/s{n}.log main;\n    proxy_read_timeout 45s;\n")
            for l in range(40):
                u = (n * 40 + l) % 1000
                f.write(f"    location /api/v{l}/ {{\n        proxy_pass http://app{u};\n"
                        f"        proxy_set_header X-Site s{n};\n        include snippets/proxy.conf;\n"
                        f"        location ~ \\.json$ {{ proxy_pass http://app{u}; add_header X-L {l}; }}\n    }}\n")
            f.write("    location / { return 404; }\n}\n")
    size += os.path.getsize(path); site += 1
print(f"{site} site files, {size} bytes")
