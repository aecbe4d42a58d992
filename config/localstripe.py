"""Run localstripe (the fake Stripe of the demo, the tests and the benchmark) with a store of its own.

localstripe 1.15 keeps its whole store in one fixed file, ``/tmp/localstripe.pickle``: the path is
written into ``localstripe.resources.Store`` (no option names it, and ``TMPDIR`` does not move it);
``localstripe`` loads it at start unless given ``--from-scratch`` and rewrites the whole file after
every write (``Store.__setitem__``/``__delitem__`` and a middleware after each POST, PUT or DELETE).
Two localstripe processes on one machine therefore read and overwrite each other's data, and every
write pays for pickling everything stored so far.

This runs localstripe's own aiohttp app with that file replaced:

- by default the store lives in memory only (the tests, the benchmark): nothing is written;
- ``--store PATH`` (the demo: ``var/localstripe.pickle``) loads PATH at start and saves the store
  there once, when the server stops (Ctrl-C or SIGTERM), never on each write.

Usage: ``python -m config.localstripe [--host 127.0.0.1] [--port 8420] [--store PATH] [--print-port]``
(``--port 0`` lets the OS pick a free port; ``--print-port`` prints it on the first line of stdout).
"""

import argparse
import logging
import pickle
import socket
import sys
from pathlib import Path


def _private_store(path: Path | None) -> None:
    """Point localstripe's store at ``path`` (None: memory only); no write per request."""
    import localstripe.resources as resources

    resources.Store.dump_to_disk = lambda self: None  # the per-write rewrite of the shared file
    resources.Store.try_load_from_disk = lambda self: None
    if path is not None and path.exists():
        with path.open("rb") as file:
            dict.update(resources.store, pickle.load(file))  # dict's update: no __setitem__ per key


def _save(path: Path):
    async def save(app) -> None:
        import localstripe.resources as resources

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("wb") as file:
            pickle.dump(dict(resources.store), file, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    return save


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--store", type=Path, default=None, help="a private file for the store (default: memory)")
    parser.add_argument("--print-port", action="store_true", help="print the port listened on, first line of stdout")
    args = parser.parse_args(argv)

    _private_store(args.store)
    from aiohttp import web
    from localstripe import server

    if args.store is not None:
        server.app.on_cleanup.append(_save(args.store))
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    if args.print_port:
        sys.stdout.write(f"{sock.getsockname()[1]}\n")  # the command's output: the port, for its caller
        sys.stdout.flush()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
