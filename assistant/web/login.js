// The sign-in form says why a sign-in was refused: Gradio's own form shows nothing for an
// address locked out after too many failed sign-ins (HTTP 429), so its message is shown above
// the form. Added to the page's <head> by assistant.web.login_guard where a password is asked.
(() => {
  const fetched = window.fetch;
  const say = (message) => {
    let note = document.getElementById("na-login-note");
    if (!note) {
      const form = document.querySelector("form") || document.body.firstElementChild;
      if (!form) return;
      note = document.createElement("p");
      note.id = "na-login-note";
      note.style.cssText = "color:#b91c1c;font-weight:600;text-align:center;margin:8px 0";
      note.setAttribute("role", "alert");
      form.parentElement.insertBefore(note, form);
    }
    note.textContent = message;
  };
  window.fetch = async (...args) => {
    const response = await fetched(...args);
    const target = args[0] instanceof Request ? args[0].url : String(args[0]);
    if (/\/login\/?$/.test(new URL(target, location.href).pathname) && response.status === 429) {
      try {
        const { detail } = await response.clone().json();
        say(detail || "Too many failed sign-ins: try again later.");
      } catch {
        say("Too many failed sign-ins: try again later.");
      }
    } else if (/\/login\/?$/.test(target) && response.ok) {
      say("");
    }
    return response;
  };
})();
