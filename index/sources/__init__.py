"""Where articles come from: files and folders (`files`, with `formats` and `fields` turning a
file's records into `Article`s), pages and feeds by URL (`web_sources`, `web_documents`, polite
HTTP in `fetch` with its conditional-request cache `fetch_cache`, and `urls`), what a sync saw of
each file last time (`filecache`), and syncing them on an interval (`watch`).
"""
