"""Memory and first paint: one visitor goes through every page of a fresh GenLab server, in the order
of app.py's navigation (read from the sidebar menu the app draws, so new pages are included), and on
each does its heaviest action. After each page it prints the server's resident memory (RSS), and at
the end the peak (VmHWM, kept by the kernel) against Community Cloud's smallest tier.

Per page it also prints the first paint: from the click on the menu entry to the page's title and a
control (button, input, slider, select, link) visible, and to the page's first run finished. The first
visit of a page includes loading its model, as for the first student after a restart.

    python benchmarks/memory.py [--policy on|off] [--server-python PATH]

Heaviest actions (a page not listed is opened and left to finish its run):
  pixelcnn_completion  time the naive vs the fast sampler
  vae_explorer         switch to Fashion-MNIST and back, then to the plain autoencoder (loads 3 models)
  gan_sampler          New face, then the nearest-training-faces search (when the face data is here)
  gan_playground       Play 100 steps; gan_lab_2d: train both losses for 500 steps
Run it on an otherwise idle machine.
"""
import argparse
import re
import sys
import time

from playwright.sync_api import expect, sync_playwright

from _timing import cpu_seconds, memory_mb  # also puts the project root on sys.path
from load import server_env  # noqa: E402
from tests.appserver import launch_chromium, running_app, wait_for_app  # noqa: E402

BUDGET_MB = 1024  # issue 15: peak at most 1.0 GB (Community Cloud's smallest tier is ~690 MB to 2.7 GB)
FIRST_PAINT_GOAL_S = 2.0
T = 180_000  # ms: a generous bound for one step; timings are printed, not judged by it

FIRST_PAINT = """() => { const main = document.querySelector('[data-testid="stMain"]');
  const visible = el => el && el.getBoundingClientRect().height > 0;
  return main && visible(main.querySelector('h1'))
         && [...main.querySelectorAll('button, input, [role="slider"], [role="combobox"], [role="radiogroup"], a')]
              .some(visible); }"""


def menu(page) -> list[tuple[str, str]]:
    """(title, href) of every entry of the app's sidebar menu, in order."""
    links = page.locator('[data-testid="stSidebar"] a[href]')
    expect(links.first).to_be_visible(timeout=T)
    return [(a.inner_text().strip().splitlines()[-1], a.get_attribute("href")) for a in links.all()]  # no icon


def click_button(page, name: str) -> None:
    page.get_by_role("button", name=re.compile(name)).first.click(timeout=T)


def pixelcnn(page):
    click_button(page, "Measure naive vs fast")
    expect(page.get_by_text("Speed-up")).to_be_visible(timeout=T)


def vae(page):
    sidebar = page.locator('[data-testid="stSidebar"]')
    for label, link in (("Fashion-MNIST clothes", "ds=fashion"), ("MNIST digits", "ds=mnist"),
                        ("plain autoencoder", "model=ae")):
        sidebar.get_by_text(label, exact=True).click(timeout=T)
        page.wait_for_url(re.compile(link), timeout=T)  # the page writes its link at the end of its run
        wait_for_app(page, T)


def gan_sampler(page):
    face = page.locator('[data-testid="stMain"] [data-testid="stImage"] img').first
    before = face.get_attribute("src")
    click_button(page, "New face")
    expect(face).not_to_have_attribute("src", before, timeout=T)  # the new face's run has landed
    wait_for_app(page, T)
    page.get_by_role("radio", name="Nearest training faces").click(timeout=T)  # "More with this GAN"
    wait_for_app(page, T)
    search = page.get_by_role("button", name=re.compile("Search for the face above"))
    if search.count() == 0:
        return "no face data here: search skipped"
    seed = re.search(r"seed=(\d+)", page.url).group(1)
    if f"(seed {seed})" not in search.inner_text():
        # The button's label (and so its identity) still names the previous seed, as "New face" reran only
        # the face: a click on it is lost and only redraws it. Click once to redraw, then for real.
        search.click(timeout=T)
        expect(search).to_contain_text(f"(seed {seed})", timeout=T)
    search.click(timeout=T)
    expect(page.get_by_text(re.compile(r"^train #\d+")).first).to_be_visible(timeout=T)


def gan_playground(page):
    click_button(page, "^Play$")
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stMarkdown"]')]
        .some(e => { const m = e.innerText.match(/step (\\d+)/); return m && +m[1] >= 100; })""", timeout=T)
    click_button(page, "^Pause$")


def gan_lab_2d(page):
    page.get_by_text("Mode collapse on the ring", exact=False).first.click(timeout=T)  # open the expander
    click_button(page, "Train both for 500 steps")
    expect(page.get_by_text(re.compile(r"of 8 modes")).first).to_be_visible(timeout=T)


HEAVIEST = {"pixelcnn_completion": pixelcnn, "vae_explorer": vae, "gan_sampler": gan_sampler,
            "gan_playground": gan_playground, "gan_lab_2d": gan_lab_2d}


def visit(page, server, title: str, href: str) -> dict:
    slug = href.rstrip("/").rsplit("/", 1)[-1] if href.rstrip("/") != server.url else ""
    t0 = time.perf_counter()
    page.locator(f'[data-testid="stSidebar"] a[href="{href}"]').click(timeout=T)
    if slug:
        page.wait_for_url(re.compile(rf"/{re.escape(slug)}(\?|$)"), timeout=T)
    page.wait_for_function(FIRST_PAINT, timeout=T)
    first_paint = time.perf_counter() - t0
    wait_for_app(page, T)
    finished = time.perf_counter() - t0
    note, action = "", HEAVIEST.get(slug)
    cpu0 = cpu_seconds(server.pid)
    if action:
        try:
            note = action(page) or f"{action.__name__}: done"
            wait_for_app(page, T)
        except Exception as e:  # report and go on: the memory figures of the other pages still count
            note = f"{action.__name__} FAILED: {str(e).splitlines()[0][:120]}"
    exceptions = page.locator('[data-testid="stException"]').count()
    return {"page": title, "first_paint": first_paint, "finished": finished, "action_cpu": cpu_seconds(server.pid) - cpu0,
            "note": note + (f"; {exceptions} exception box(es)" if exceptions else ""), **memory_mb(server.pid)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", choices=["on", "off"], default="on", help="thread policy (see load.py)")
    parser.add_argument("--server-python", default=sys.executable,
                        help="the server's interpreter, e.g. a venv with requirements-cpu.txt (default: this one)")
    args = parser.parse_args()
    rows = []
    with running_app(env=server_env(args.policy), python=args.server_python) as server, \
            sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url, wait_until="commit")
        wait_for_app(page, T)
        start = {"page": "(server started, home open)", **memory_mb(server.pid)}
        entries = menu(page)
        print(f"server pid {server.pid}; {len(entries)} pages in the menu: {', '.join(t for t, _ in entries)}")
        for title, href in entries[1:] + entries[:1]:  # home last: it was drawn first already
            rows.append(visit(page, server, title, href))
            r = rows[-1]
            print(f"{r['page']:24s} first paint {r['first_paint']:5.1f} s, run finished {r['finished']:5.1f} s; "
                  f"RSS {r['rss']:6.0f} MB; action {r['action_cpu']:5.1f} CPU s; {r['note']}", flush=True)
        browser.close()
        end = memory_mb(server.pid)
    print(f"\nRSS at start {start['rss']:.0f} MB; after every page {end['rss']:.0f} MB; "
          f"peak {end['hwm']:.0f} MB ({'within' if end['hwm'] <= BUDGET_MB else 'OVER'} the {BUDGET_MB} MB aim); "
          f"{end['threads']} server threads")
    slow = [r["page"] for r in rows if r["first_paint"] > FIRST_PAINT_GOAL_S]
    print(f"first paint over {FIRST_PAINT_GOAL_S:.0f} s: {', '.join(slow) or 'none'}")


if __name__ == "__main__":
    main()
