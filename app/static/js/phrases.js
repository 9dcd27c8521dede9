// 常用意见 on the task page: add a phrase to the opinion, save the opinion as a phrase.
(function () {
  // 保存为常用意见: send what is in the opinion field now
  var savePhrase = document.getElementById("save-phrase");
  if (savePhrase) {
    savePhrase.addEventListener("click", async function () {
      var form = document.getElementById("phrase-form");
      document.getElementById("phrase-text").value = document.getElementById(savePhrase.dataset.target).value;
      var response = await fetch(form.action, {method: "POST", body: new FormData(form),
        credentials: "same-origin", headers: {"Accept": "application/json"}});
      var answer = await response.json();
      savePhrase.textContent = answer.message;
      if (answer.ok) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-sm btn-outline-primary";
        button.dataset.phrase = answer.text;
        button.dataset.target = savePhrase.dataset.target;
        button.textContent = answer.text;
        button.addEventListener("click", addPhrase);
        savePhrase.before(button);
      }
    });
  }
  // 常用意见: add the phrase to the opinion, keeping what is already written.
  function addPhrase(event) {
    var button = event.currentTarget;
    var opinion = document.getElementById(button.dataset.target);
    opinion.value = opinion.value + button.dataset.phrase;
    opinion.focus();
  }
  document.querySelectorAll("#phrases [data-phrase]").forEach(function (button) {
    button.addEventListener("click", addPhrase);
  });
})();
