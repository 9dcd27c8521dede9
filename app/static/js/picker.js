// Searching pickers (tom-select from npm) on fields marked data-picker; without
// JavaScript the field stays the plain input or select it is in the page.
//
//   data-picker="people"  an <input> (one username) or a <select> (one or multiple):
//                         found by name, pinyin initials or department through
//                         GET /org/people?q=…; the username is the value submitted.
//                         data-picker-create: a typed text is also accepted as it is
//                         (e.g. 加签, whose signers may be departments' codes).
//   data-picker="places"  a <select> whose options are labelled by their path
//                         ("青山县 / 城关镇 / 东关村"), in the tree's order; searched
//                         by path and by pinyin (an option's data-pinyin).
(function () {
  var SEPARATOR = " / ";

  function escapeWith(escape) {
    return function (text) { return escape(text == null ? "" : String(text)); };
  }

  function peopleUrl(field) {
    return field.dataset.pickerUrl || document.body.dataset.peopleUrl || "/org/people";
  }

  function findPeople(field, query) {
    var url = peopleUrl(field) + "?q=" + encodeURIComponent(query);
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (json) { return json.people; });
  }

  // a form shown again with a username typed or chosen before: show that person's name
  function nameTheChosen(picker, field) {
    if (field.tagName !== "INPUT" || !field.value) return;
    var username = field.value;
    findPeople(field, username).then(function (people) {
      people.forEach(function (person) {
        if (person.value === username) picker.updateOption(username, person);
      });
    }).catch(function () {});
  }

  function peopleOptions(field) {
    var multiple = field.tagName === "SELECT" && field.multiple;
    return {
      valueField: "value",
      labelField: "name",
      searchField: [],
      maxItems: multiple ? null : 1,
      closeAfterSelect: !multiple,
      create: "pickerCreate" in field.dataset,
      plugins: multiple ? ["remove_button"] : [],
      placeholder: field.dataset.pickerPlaceholder || "输入姓名、拼音首字母或部门",
      loadThrottle: 250,
      // the server has matched (pinyin included): show what it found, as it ranked it
      score: function () { return function () { return 1; }; },
      sortField: [{ field: "$order" }],
      onInitialize: function () { nameTheChosen(this, field); },
      load: function (query, callback) {
        var picker = this;
        findPeople(field, query)
          .then(function (people) {
            picker.clearOptions();
            callback(people);
          })
          .catch(function () { callback(); });
      },
      render: {
        option: function (person, escape) {
          var e = escapeWith(escape);
          var where = (person.departments || []).join("；");
          return '<div class="picker-option">' + e(person.name) +
            (where ? '<span class="picker-meta">' + e(where) + "</span>" : "") + "</div>";
        },
        item: function (person, escape) {
          return "<div>" + escapeWith(escape)(person.name) + "</div>";
        },
        no_results: function () {
          return '<div class="no-results">没有找到，可输入姓名、拼音首字母（如 zs）或部门</div>';
        },
        option_create: function (data, escape) {
          return '<div class="create">按原样使用“' + escapeWith(escape)(data.input) + "”</div>";
        },
        loading: function () { return '<div class="spinner-border spinner-border-sm m-2" role="status"></div>'; },
      },
    };
  }

  function placesOptions(field) {
    return {
      searchField: ["text", "pinyin"],
      sortField: [{ field: "$order" }],
      allowEmptyOption: true,
      maxOptions: null,
      create: false,
      placeholder: field.dataset.pickerPlaceholder || "输入地名或拼音首字母",
      onInitialize: function () {
        var options = this.options;
        Array.prototype.forEach.call(field.options, function (option) {
          if (options[option.value]) options[option.value].pinyin = option.dataset.pinyin || "";
        });
      },
      render: {
        option: function (place, escape) {
          var e = escapeWith(escape);
          var parts = String(place.text).split(SEPARATOR);
          var name = parts.pop();
          var depth = Math.min(parts.length, 3);
          return '<div class="picker-option picker-depth-' + depth + '">' + e(name) +
            (parts.length ? '<span class="picker-meta">' + e(parts.join(SEPARATOR)) + "</span>" : "") +
            "</div>";
        },
        no_results: function () { return '<div class="no-results">没有找到这个地点</div>'; },
      },
    };
  }

  var KINDS = { people: peopleOptions, places: placesOptions };

  function start(field) {
    var options = KINDS[field.dataset.picker];
    if (!options || field.tomselect || typeof window.TomSelect !== "function") return;
    new window.TomSelect(field, options(field));
  }

  function startAll() {
    document.querySelectorAll("[data-picker]").forEach(start);
  }

  // for fields added after the page loaded
  window.yimenPickers = { start: start };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
