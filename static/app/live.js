// The workspace's live updates: one EventSource on /app/stream (tenant.views.live). An
// event refreshes the inbox list and the open conversation through htmx (the server
// renders them: previews, unread counts, order), moves the sessions counter, and
// announces a new message from a contact with a sound and/or a count in the title, as
// the user chose (sent by the stream's first event).
(function () {
  "use strict";
  var root = document.getElementById("live-root");
  if (!root || !window.EventSource) { return; }
  var baseTitle = document.title;
  var unseen = 0;
  var prefs = { sound: false, title_badge: true };
  var source = new EventSource(root.dataset.stream);
  root.dataset.state = "connecting";

  // At most one refresh of each part per REFRESH_MS, and always one after the last event
  // (htmx's own throttle would drop the events of a burst after the first).
  var REFRESH_MS = 700;
  var timers = {};
  var dirty = {};
  function refresh(selector) {
    if (timers[selector]) { dirty[selector] = true; return; }
    var el = document.querySelector(selector);
    if (!el || !window.htmx) { return; }
    window.htmx.trigger(el, "live-refresh");
    timers[selector] = window.setTimeout(function () {
      timers[selector] = null;
      if (dirty[selector]) { dirty[selector] = false; refresh(selector); }
    }, REFRESH_MS);
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      var ctx = new Context();
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.15);
      osc.onended = function () { ctx.close(); };
    } catch (e) { /* no sound: the page still updates */ }
  }

  function announce() {
    if (prefs.sound) { beep(); }
    if (prefs.title_badge && (document.hidden || !document.hasFocus())) {
      unseen += 1;
      document.title = "(" + unseen + ") " + baseTitle;
    }
  }

  function seen() {
    unseen = 0;
    document.title = baseTitle;
  }

  // The open conversation, refreshed, shows its newest message.
  document.addEventListener("htmx:afterSettle", function (event) {
    var box = document.getElementById("conversation-messages");
    var from = event.detail && event.detail.elt;
    if (box && from && from.id === "conversation-messages") { box.scrollTop = box.scrollHeight; }
  });

  document.addEventListener("visibilitychange", function () { if (!document.hidden) { seen(); } });
  window.addEventListener("focus", seen);

  source.onopen = function () { root.dataset.state = "open"; };
  source.onmessage = function (message) {
    var data = JSON.parse(message.data);
    root.dataset.lastEvent = message.lastEventId || root.dataset.lastEvent || "";
    if (data.kind === "hello") { prefs = data; return; }
    if (data.kind === "end") { source.close(); root.dataset.state = "closed"; return; }
    if (data.kind === "sessions") {
      var meter = document.getElementById("sessions-remaining");
      if (meter && typeof data.remaining === "number") {
        meter.textContent = data.remaining.toLocaleString(document.documentElement.lang || undefined);
      }
      return;
    }
    refresh("#inbox-list");
    var open = document.getElementById("conversation-messages");
    if (data.kind === "reset" || (open && data.conversation && String(data.conversation.id) === open.dataset.conversationId)) {
      refresh("#conversation-messages");
    }
    if (data.kind === "message" && data.message && data.message.direction === "in") { announce(); }
  };
})();
