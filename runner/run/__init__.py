"""Running chapters: persistent bash sessions (`session`), the executor that runs a parsed
chapter against its lab (`execute`), and what a run reports (`report` on the terminal, `junit`)."""
