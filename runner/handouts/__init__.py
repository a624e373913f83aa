"""Workshop handouts: one A4 PDF per chapter and a booklet, from the stored verified results.

jinja2 renders HTML, WeasyPrint prints it. Reads results and parsed chapters only: no lab.
"""
