"""Row counts of report.html's tables against report.json.

Usage: check-html-rows.py REPORT_JSON DOM_HTML (the page as Chromium rendered
it, from `chromium --dump-dom`). Prints ok/FAIL lines; exits 1 on a mismatch.
"""
import html.parser
import json
import sys


class Tables(html.parser.HTMLParser):
    """Body rows (<tr> with <td>) of every <table id=...>."""

    def __init__(self):
        super().__init__()
        self.rows = {}
        self.stack = []
        self.row_has_td = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.stack.append(dict(attrs).get("id", ""))
        elif tag == "tr":
            self.row_has_td = False
        elif tag == "td":
            self.row_has_td = True

    def handle_endtag(self, tag):
        if tag == "table" and self.stack:
            self.stack.pop()
        elif tag == "tr" and self.stack and self.row_has_td:
            t = self.stack[-1]
            self.rows[t] = self.rows.get(t, 0) + 1


def main():
    report = json.load(open(sys.argv[1]))
    page = Tables()
    page.feed(open(sys.argv[2], encoding="utf-8").read())
    got = page.rows
    want = {}
    want["owners-table"] = len(report["attribution"].get("owners", []))
    files = report["carving"].get("files", [])
    want["carved-table"] = min(len(files), 5000)
    cands = report["deleted"]["candidates"]
    book = [c for c in cands if c.get("class") == "runtime-metadata"]
    want["deleted-table"] = min(len(cands) - len(book), 5000)
    if book:
        want["deleted-table-bookkeeping"] = min(len(book), 5000)
    for c in report["docker"]["containers"] + report["docker"]["removed_containers"]:
        mine = [f for f in files if f.get("attribution", {}).get("owner") == c["id"]]
        if mine:
            want["carved-" + c["id"][:12]] = len(mine)
    fail = 0
    for table, n in sorted(want.items()):
        if got.get(table, 0) == n:
            print(f"ok   #{table}: {n} rows, as in report.json")
        else:
            print(f"FAIL #{table}: {got.get(table, 0)} rows, report.json has {n}")
            fail = 1
    sys.exit(fail)


if __name__ == "__main__":
    main()
