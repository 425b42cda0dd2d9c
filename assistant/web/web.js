() => {
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
