// The front-desk status page (issue 13). Every sentence comes from status.json, written by the
// daemon in the page's language; this script only places it, and it alone decides when the
// data is stale: from the monotonic time of its own last successful fetch, never from a clock
// the server sent. Old data is never shown as a green "normal".
(function () {
  "use strict";

  var SVG = 'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"';
  var RING = '<circle cx="50" cy="50" r="44" fill="none" stroke="currentColor" stroke-width="9"/>';
  var ICONS = {
    ok: RING + '<path d="M28 52 L44 68 L73 35" fill="none" stroke="currentColor" stroke-width="10" stroke-linecap="round" stroke-linejoin="round"/>',
    down: RING + '<path d="M33 33 L67 67 M67 33 L33 67" stroke="currentColor" stroke-width="10" stroke-linecap="round"/>',
    slow: RING + '<path d="M50 24 L50 52 L68 62" fill="none" stroke="currentColor" stroke-width="9" stroke-linecap="round" stroke-linejoin="round"/>',
    closed: RING + '<path d="M27 50 L73 50" stroke="currentColor" stroke-width="12" stroke-linecap="round"/>',
    stale: RING + '<path d="M38 38 Q38 24 50 24 Q63 24 63 37 Q63 46 50 51 L50 60" fill="none" stroke="currentColor" stroke-width="9" stroke-linecap="round"/><circle cx="50" cy="74" r="6" fill="currentColor"/>',
    checking: RING + '<circle cx="30" cy="50" r="7" fill="currentColor"/><circle cx="50" cy="50" r="7" fill="currentColor"/><circle cx="70" cy="50" r="7" fill="currentColor"/>'
  };
  var SEGMENTS = ["available", "lost", "unmonitored", "later"];

  var body = document.body;
  var view = JSON.parse(document.getElementById("initial").textContent);
  var lastOk = performance.now();
  // The clock shows the daemon's time, carried on by the monotonic clock: a TV stick without
  // NTP must not show the office a wrong time.
  var serverAt = view.generated_at * 1000;
  var shownStale = null;

  function byId(id) { return document.getElementById(id); }

  function setText(id, text) {
    var node = byId(id);
    if (node.textContent !== text) { node.textContent = text; }
  }

  function items(id, list, build) {
    // Rebuilt only when it changed: no flicker, and a screen reader is not told it again.
    var node = byId(id);
    var key = JSON.stringify(list);
    if (node.dataset.key === key) { return; }
    node.dataset.key = key;
    node.textContent = "";
    list.forEach(function (entry) { node.appendChild(build(entry)); });
  }

  function li(text, className) {
    var node = document.createElement("li");
    node.textContent = text;
    if (className) { node.className = className; }
    return node;
  }

  function render(data, stale) {
    var tone = stale ? "stale" : data.tone;
    var banner = byId("banner");
    banner.className = "tone-" + tone;
    banner.dataset.state = stale ? "stale" : data.state;
    byId("icon").innerHTML = "<svg " + SVG + ">" + ICONS[tone] + "</svg>";
    setText("headline", stale ? data.stale.headline : data.headline);
    var lines = stale ? [data.stale.detail] : data.lines;
    items("lines", lines, function (line) { return li(line); });
    body.classList.toggle("stale-data", stale);

    var notice = byId("notice");
    notice.hidden = !data.notice;
    setText("notice-text", data.notice || "");
    setText("hours-label", data.hours.label);
    setText("hours", data.hours.value);
    setText("lost-label", data.lost_today.label);
    setText("lost", data.lost_today.value);
    var box = byId("targets-box");
    box.hidden = !data.targets;
    if (data.targets) {
      setText("targets-label", data.targets.label);
      items("targets", data.targets.items, function (t) {
        return li(t.name + " (" + t.role + "): " + t.text, t.state);
      });
    }
    setText("days-label", data.days.label);
    items("legend", SEGMENTS, function (name) {
      var node = li("");
      var swatch = document.createElement("span");
      swatch.className = "swatch seg-" + name;
      node.appendChild(swatch);
      node.appendChild(document.createTextNode(data.days.legend[name]));
      return node;
    });
    items("days", data.days.bars, function (day) {
      var node = li("");
      var bar = document.createElement("div");
      bar.className = "bar";
      var total = day.scheduled || 1;
      SEGMENTS.forEach(function (name) {
        if (day[name] > 0) {
          var seg = document.createElement("span");
          seg.className = "seg-" + name;
          seg.style.flex = "0 0 " + (100 * day[name] / total).toFixed(2) + "%";
          bar.appendChild(seg);
        }
      });
      node.appendChild(bar);
      var label = document.createElement("p");
      label.className = "day-label";
      label.textContent = day.label;
      var text = document.createElement("p");
      text.className = "day-text";
      text.textContent = day.text;
      node.appendChild(label);
      node.appendChild(text);
      return node;
    });
    setText("updated", data.updated);
    shownStale = stale;
  }

  function isStale() {
    return performance.now() - lastOk > view.stale_after_seconds * 1000;
  }

  function poll() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, view.poll_seconds * 1000);
    fetch("status.json", { cache: "no-store", signal: controller.signal })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (data.version !== view.version) {
          // Pantau was upgraded: an unattended screen takes the new page by itself.
          window.location.reload();
          return;
        }
        view = data;
        lastOk = performance.now();
        serverAt = data.generated_at * 1000;
        render(view, false);
      })
      .catch(function () { /* the staleness check below says so on screen */ })
      .then(function () {
        clearTimeout(timer);
        setTimeout(poll, view.poll_seconds * 1000);
      });
  }

  var clock = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-GB" : "id-ID", {
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: body.dataset.timezone
  });

  function tick() {
    var now = new Date(serverAt + performance.now() - lastOk);
    setText("clock", clock.format(now).replace(".", ":"));
    var stale = isStale();
    if (stale !== shownStale) { render(view, stale); }
  }

  render(view, false);
  tick();
  setInterval(tick, 1000);
  setTimeout(poll, view.poll_seconds * 1000);
}());
