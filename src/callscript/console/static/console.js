// The console's only script: keys 1-9 and letters, turns sent with their revision and an
// idempotency key made once per attempt (a retry after a network failure resends the same
// request, so the service takes it once), the hold timer. Pages work without it too.
(function () {
  'use strict';
  var busy = false;
  var holdTimer = null;

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);  // randomUUID needs a secure context; this does not
    return Array.prototype.map.call(bytes, function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  }

  function words() {
    var t = document.getElementById('words');
    return t ? t.dataset : {};
  }

  function setup() {
    document.querySelectorAll('form[data-turn] input[name=key]').forEach(function (input) {
      input.value = newKey();
    });
    document.querySelectorAll('[data-collapsed]').forEach(function (box) { box.hidden = true; });
    var invalid = document.querySelector('[aria-invalid=true]');
    var heading = document.getElementById('step-title') || document.getElementById('summary-title');
    if (invalid) {
      invalid.focus();
    } else if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
    startHoldTimer();
  }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
  }

  function startHoldTimer() {
    if (holdTimer) { clearInterval(holdTimer); holdTimer = null; }
    var box = document.querySelector('[data-hold]');
    if (!box) { return; }
    var began = performance.now();
    var base = parseFloat(box.dataset.elapsed) || 0;  // the server's count at render
    var limit = parseInt(box.dataset.limit, 10);
    var timer = document.getElementById('hold-timer');
    var over = document.getElementById('hold-over');
    var button = document.getElementById('resume');
    function tick() {
      var seconds = base + (performance.now() - began) / 1000;
      timer.textContent = clock(seconds);
      if (seconds >= limit && over.hidden) {
        over.hidden = false;
        box.classList.add('over');
        button.querySelector('.label').textContent = button.dataset.overLabel;
      }
    }
    tick();
    holdTimer = setInterval(tick, 250);
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    setup();
  }

  function setBusy(on) {
    busy = on;
    document.querySelectorAll('form[data-turn] button').forEach(function (b) {
      b.disabled = on;
    });
  }

  function networkBanner(attempt, form, body) {
    var banner = document.getElementById('network');
    var text = document.getElementById('network-text');
    var retry = document.getElementById('network-retry');
    var w = words();
    banner.hidden = false;
    if (attempt < 5) {
      text.textContent = w.network + ' (' + (attempt + 1) + ')';
      retry.hidden = true;
      setTimeout(function () { send(form, body, attempt + 1); }, 500 * Math.pow(2, attempt));
    } else {
      text.textContent = w.networkFailed;
      retry.hidden = false;
      retry.onclick = function () { send(form, body, 0); };
      retry.focus();
    }
  }

  function send(form, body, attempt) {
    setBusy(true);
    fetch(form.action, {
      method: 'POST', body: body, credentials: 'same-origin', redirect: 'follow',
      headers: { 'Accept': 'text/html' }
    }).then(function (response) {
      if (response.status >= 500) { throw new Error('server ' + response.status); }
      return response.text().then(function (html) {
        var url = new URL(response.url);
        busy = false;
        if (response.redirected && url.pathname !== location.pathname) {
          location.assign(response.url);
        } else {
          swap(html);
        }
      });
    }).catch(function () {
      // the buttons stay off: only this very request (same key) is sent again
      networkBanner(attempt, form, body);
    });
  }

  // the service's rule for phone numbers (captures.py), checked before the round trip;
  // the service checks again and its answer is the one that counts
  var PHONE = /^\+?\d[\d\- ]{4,18}\d$/;

  function phoneProblem(form) {
    var wrong = null;
    form.querySelectorAll('input[data-phone]').forEach(function (input) {
      var old = document.getElementById(input.id + '-client-error');
      if (old) { old.remove(); }
      input.removeAttribute('aria-invalid');
      if (input.value.trim() && !PHONE.test(input.value.trim())) {
        var note = document.createElement('p');
        note.className = 'error';
        note.id = input.id + '-client-error';
        note.textContent = input.dataset.phone;
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', note.id);
        input.insertAdjacentElement('afterend', note);
        wrong = wrong || input;
      }
    });
    return wrong;
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.matches('form[data-turn]')) { return; }
    event.preventDefault();
    if (busy) { return; }
    var wrong = phoneProblem(form);
    if (wrong) { wrong.focus(); return; }
    // the body is fixed now: a retry sends exactly these values and this key
    send(form, new URLSearchParams(new FormData(form)), 0);
  });

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button.answer[aria-controls]');
    if (!button) { return; }
    var box = document.getElementById(button.getAttribute('aria-controls'));
    box.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    var first = box.querySelector('input, textarea, select');
    if (first) { first.focus(); }
  });

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || busy) { return; }
    var target = event.target;
    var key = event.key.toLowerCase();
    if (target.matches && target.matches('input[type=radio]') && /^[1-9]$/.test(key)) {
      // numbered choices: a digit picks the option of that number in its group
      var group = target.closest('fieldset').querySelectorAll('input[type=radio]');
      var pick = group[parseInt(key, 10) - 1];
      if (pick) { event.preventDefault(); pick.checked = true; pick.focus(); }
      return;
    }
    if (target.closest && target.closest('input, textarea, select, [contenteditable]')) { return; }
    if (document.querySelector('table.worklist') && /^[1-9]$/.test(key)) {
      // the worklist: a digit picks that row's start button; Enter then starts it
      var row = document.querySelector('button[data-row="' + key + '"]');
      if (row) { event.preventDefault(); row.focus(); }
      return;
    }
    if (!document.querySelector('.call') || key.length !== 1) { return; }
    var button = document.querySelector('button[data-key="' + key + '"]');
    if (!button) { return; }
    event.preventDefault();
    button.click();
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', setup);
  } else {
    setup();
  }
}());
