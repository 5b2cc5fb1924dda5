// Bastion review: keyboard shortcuts. Every page works without this script.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announce");
    if (region) {
      region.textContent = text;
    }
  }

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && ["radio", "checkbox", "submit", "button"].indexOf(target.type) < 0);
  }

  function choose(outcome, name) {
    var radio = document.getElementById("outcome-" + outcome);
    var button = document.getElementById("decide-button");
    if (!radio || !button) {
      return;
    }
    radio.checked = true;
    button.focus();
    announce("Outcome " + name + " selected. Press Enter to decide.");
  }

  function toggleMedia() {
    var toggles = document.querySelectorAll(".reveal-toggle");
    if (!toggles.length) {
      return;
    }
    var reveal = !toggles[0].checked;
    toggles.forEach(function (toggle) {
      toggle.checked = reveal;
    });
    announce(reveal ? "Media revealed." : "Media hidden.");
  }

  function takeNext() {
    var form = document.getElementById("take-next");
    if (form) {
      form.requestSubmit();
    }
  }

  var keys = {
    c: function () { choose("confirm", "confirm"); },
    f: function () { choose("false_positive", "false positive"); },
    e: function () { choose("escalate", "escalate"); },
    r: toggleMedia,
    n: takeNext
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) {
      return;
    }
    var action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
}());
