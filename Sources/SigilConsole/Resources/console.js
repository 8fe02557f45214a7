document.querySelectorAll("[data-multi]").forEach(function (set) {
  function removable(row) {
    var button = document.createElement("button");
    button.type = "button"; button.textContent = "Remove";
    button.addEventListener("click", function () { row.remove(); });
    row.appendChild(button);
  }
  set.querySelectorAll(".value-row").forEach(removable);
  var add = document.createElement("button");
  add.type = "button"; add.textContent = "Add another value";
  add.addEventListener("click", function () {
    var rows = set.querySelectorAll(".value-row");
    var row = rows[rows.length - 1].cloneNode(true);
    var input = row.querySelector("input");
    var n = rows.length + 1;
    input.value = ""; input.id = "value-" + n;
    row.querySelector("label").htmlFor = input.id; row.querySelector("label").textContent = "Value " + n;
    row.querySelector("button").remove(); removable(row);
    set.insertBefore(row, add); input.focus();
  });
  set.appendChild(add);
});
