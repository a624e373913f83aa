"""What the site and the handouts share: loading the book and its stored results (`book`),
the state of each chapter and block (`status`), the transcript readers see (`transcript`) and
the French wording (`french`). Reads parsed chapters and stored records; never the lab or the
sessions."""
