() => {
  // Citation markers [n] in an answer: bring that answer's sources back (a click on a message
  // selects it), then scroll to passage n and flash it. "Read the whole article" on a source
  // card: open the article in the Library tab (its id in window.naOpen, then the hidden
  // #na-open-article button pressed). An answer's "export" link: that answer as Markdown.
  if (!window.__naLinks) {
    window.__naLinks = true;
    const flash = (key, n, tries) => {
      const panel = document.querySelector(`#na-sources .na-sources[data-key="${key}"]`);
      if (!panel) {
        if (tries < 60) setTimeout(() => flash(key, n, tries + 1), 50);
        return;
      }
      const item = panel.querySelector(`#na-source-${n}`);
      if (!item) return;
      item.scrollIntoView({ behavior: "smooth", block: "center" });
      item.classList.remove("na-flash");
      void item.offsetWidth; // restart the animation on a second click
      item.classList.add("na-flash");
    };
    document.addEventListener("click", (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const cite = target && target.closest("a.na-cite");
      if (cite) {
        event.preventDefault(); // the message's own click (selecting it) still happens
        const [, key, n] = (cite.getAttribute("href") || "").match(/^#na-cite-(\w+)-(\d+)$/) || [];
        if (key) flash(key, n, 0);
        return;
      }
      const one = target && target.closest("a.na-export-one");
      if (one) {
        event.preventDefault();
        event.stopPropagation();  // not a click on the message: its sources stay as they are
        const [, key] = (one.getAttribute("href") || "").match(/^#na-export-(\w+)$/) || [];
        const button = document.querySelector("#na-export-one");
        if (!key || !button) return;
        window.naExportKey = key;
        button.click();
        return;
      }
      const read = target && target.closest("a.na-read");
      if (read) {
        event.preventDefault();
        const button = document.querySelector("#na-open-article");
        if (!button) return;
        window.naOpen = read.dataset.article;
        button.click();
      }
    }, true);
  }
  // Uploads larger than the limit are refused here, before a byte is sent (the server checks
  // again): the file chooser's choice and a drop on the upload box are both looked at.
  if (!window.__naSizes) {
    window.__naSizes = true;
    const tooBig = (files) => {
      const note = document.querySelector("#na-upload-note .na-upload-note");
      const limit = Number(note?.dataset.bytes || 0);
      if (!note || !limit) return false;
      const big = [...(files || [])].filter((f) => f.size > limit);
      note.textContent = big
        .map((f) => `“${f.name}” is ${(f.size / 1048576).toFixed(1)} MB, more than the ` +
                    `${note.dataset.mb} MB an upload may be: not sent.`)
        .join(" ");
      return big.length > 0;
    };
    const inUpload = (target) => target instanceof Element && target.closest("#na-upload");
    document.addEventListener("change", (event) => {
      const input = event.target;
      if (inUpload(input) && input.type === "file" && tooBig(input.files)) {
        event.stopImmediatePropagation();
        input.value = "";
      }
    }, true);
    document.addEventListener("drop", (event) => {
      if (inUpload(event.target) && tooBig(event.dataTransfer?.files)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);
  }
  // Date filters: a calendar beside each box (the browser's own date picker); what it picks is
  // written into the box as YYYY-MM-DD, as if typed, and typing still works.
  const calendars = () => {
    for (const id of ["#na-since", "#na-until"]) {
      const box = document.querySelector(`${id} textarea`);
      if (!box || box.parentElement.querySelector(".na-calendar")) continue;
      const picker = document.createElement("input");  // the browser's date picker
      picker.type = "date";
      picker.className = "na-calendar";
      picker.tabIndex = -1;
      picker.setAttribute("aria-hidden", "true");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "na-calendar-button";
      open.title = "Pick a date";
      open.setAttribute("aria-label", "Pick a date");
      open.innerHTML =  // a calendar, drawn (no emoji font is needed)
        '<svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" ' +
        'stroke-width="2"><rect x="3" y="5" width="18" height="16" rx="2"/>' +
        '<line x1="3" y1="10" x2="21" y2="10"/><line x1="8" y1="3" x2="8" y2="7"/>' +
        '<line x1="16" y1="3" x2="16" y2="7"/></svg>';
      open.addEventListener("click", (event) => {
        event.preventDefault();
        if (/^\d{4}-\d{2}-\d{2}$/.test(box.value)) picker.value = box.value;
        try { picker.showPicker(); } catch { picker.focus(); picker.click(); }
      });
      picker.addEventListener("change", () => {
        box.focus();
        box.value = picker.value;  // an InputEvent, as typing makes: the page reads it
        box.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText" }));
        // left once the page has taken the value in (it does so after this handler): the
        // filter note checks the dates when a box is left
        setTimeout(() => box.blur(), 0);
      });
      box.parentElement.classList.add("na-has-calendar");
      box.parentElement.append(picker, open);
    }
  };
  if (!window.__naCalendars) {  // boxes drawn later (folded filters opened) get one too
    window.__naCalendars = new MutationObserver(calendars);
    window.__naCalendars.observe(document.body, { childList: true, subtree: true });
  }
  calendars();
  // Phones: fold the filters away once the page is drawn (web.css puts them after the sources).
  if (!window.matchMedia("(max-width: 640px)").matches) return;
  let tries = 0;
  const fold = () => {
    const label = document.querySelector("#na-filters .label-wrap");
    if (label) {
      if (label.classList.contains("open")) label.click();
    } else if (tries++ < 100) {
      setTimeout(fold, 50);
    }
  };
  fold();
}
