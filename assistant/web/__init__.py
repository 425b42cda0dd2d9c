"""The web page: its handlers (`app`), layout and wiring (`page`), HTML (`render`), look (`look`
with `web.css` and `web.js`), uploads (`uploads`), and its guards (`login_guard` slows password
guessing, `file_guard` keeps Gradio's file route out of the store).

`python app.py` and `assistant serve` start it (`assistant.cli.serve`).
"""
