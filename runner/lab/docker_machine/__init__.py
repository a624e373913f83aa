"""The lab's `docker-machine` command: the commands readers type, on the lab's real engines.

`command.main` is the entry point (one process per command, so imports stay light);
`lifecycle` holds what changes machines (create, rm, stop, start, kill, ssh, scp),
`queries` what only reads them (ls, ip, env, inspect, status, url, config).
"""
