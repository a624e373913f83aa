"""The book's site: an mkdocs plugin that publishes each console block's last passing run.

Reads only stored results (`runner.records`) and parsed chapters (`runner.notation`): it never
starts a lab or a shell, so `mkdocs build` works on any machine.
"""
