"""pyxform against Voices on real workbooks (run by scripts/xlsform-differential.sh).

For each workbook, pyxform (pinned, in a venv) writes an XForm and Voices' importer writes a
form (`import_report` example, one JSON line per workbook). Both are brought to one shape —
every question, group and repeat by path with its type, choice names, relevance, constraint,
calculation, choice filter and repeat count, expressions tokenised with `/data/grp/x`,
`../x` and `${x}` all written `${x}` — and compared. The rule:

- pyxform converts it: Voices imports it with no error, and the two agree; a difference is
  allowed only where Voices warns on that row with a code listed as a deliberate difference
  in docs/xlsform.md ("Differences from pyxform").
- pyxform refuses it: Voices refuses it too, with an error on the row pyxform names (or on
  a located cell when pyxform names none).

Prints one line per failing workbook and closes with `xlsform-differential: N passed, N failed`.
"""

import argparse
import json
import os
import re
import sys
import warnings
import xml.etree.ElementTree as ET

XF = "{http://www.w3.org/2002/xforms}"
JR = "{http://openrosa.org/javarosa}"
ODK = "{http://www.opendatakit.org/xforms}"

# ---------------------------------------------------------------- expressions

TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{[^}]*\})
    | (?P<str>'[^']*'|"[^"]*")
    | (?P<num>\d+(?:\.\d*)?|\.\d+)
    | (?P<op>//|\.\.|!=|<=|>=|[=<>+\-*|()\[\],/@.])
    | (?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?(?::\*)?|\*)
    | (?P<other>\S)
    )""",
    re.X,
)


def tokens(text):
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = "'" + value[1:-1] + "'"  # one quoting style
        out.append((kind, value))
    return out


# A location path starts where an operand may start: at the beginning or after these.
OPERAND_START = {"(", "[", ",", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "|", "and", "or", "div", "mod"}


def normalise(expr, root):
    """Token string of an expression with every path to a node written ${leaf}."""
    if expr is None:
        return None
    toks = tokens(expr)
    out = []
    i = 0
    while i < len(toks):
        kind, value = toks[i]
        prev = out[-1] if out else None
        at_operand = prev is None or prev in OPERAND_START
        # instance('__last-saved')/data/x → ${last-saved#x}
        if (
            kind == "name"
            and value == "instance"
            and i + 3 < len(toks)
            and toks[i + 2][1] == "'__last-saved'"
        ):
            j = i + 4
            last = None
            while j + 1 < len(toks) and toks[j][1] == "/" and toks[j + 1][0] == "name":
                last = toks[j + 1][1]
                j += 2
            if last:
                out.append("${last-saved#" + last + "}")
                i = j
                continue
        # current()/../x, ../x, /data/.../x → ${x}
        start = None
        if at_operand and value == "/" and i + 1 < len(toks) and toks[i + 1][1] == root:
            start = i
        elif at_operand and value == ".." and i + 1 < len(toks) and toks[i + 1][1] == "/":
            start = i
        elif (
            at_operand
            and value == "current"
            and i + 3 < len(toks)
            and toks[i + 1][1] == "("
            and toks[i + 2][1] == ")"
            and toks[i + 3][1] == "/"
        ):
            start = i
        if start is not None:
            j = start
            if value == "current":
                j += 3
            last = None
            steps = 0
            while j < len(toks):
                k, v = toks[j]
                if v in ("/", "..") or (k == "name" and (j == start or toks[j - 1][1] == "/")):
                    if k == "name":
                        last = v
                    steps += 1
                    j += 1
                    continue
                break
            if last and steps > 1:
                out.append("${" + last + "}")
                i = j
                continue
        if kind == "ref":
            inner = value[2:-1].strip()
            out.append("${" + inner + "}")
        else:
            out.append(value)
        i += 1
    return " ".join(out)


# ---------------------------------------------------------------- pyxform side


def xform_model(xml_text):
    """The XForm as {path: item} (root excluded), in document order, and the root name."""
    doc = ET.fromstring(xml_text)
    model = doc.find(f"{{http://www.w3.org/1999/xhtml}}head/{XF}model")
    instances = model.findall(f"{XF}instance")
    primary = next(i for i in instances if "id" not in i.attrib)
    root = list(primary)[0]
    root_name = local(root.tag)
    lists = {}
    for inst in instances:
        iid = inst.attrib.get("id")
        if iid and inst.find(f"{XF}root") is not None:
            lists[iid] = [
                (item.findtext(f"{XF}name") or "").strip()
                for item in inst.find(f"{XF}root").findall(f"{XF}item")
            ]
    binds = {b.attrib.get("nodeset"): b.attrib for b in model.findall(f"{XF}bind")}
    body = doc.find(f"{{http://www.w3.org/1999/xhtml}}body")
    controls, repeats = {}, {}
    for el in body.iter():
        tag = local(el.tag)
        if tag == "repeat":
            repeats[el.attrib.get("nodeset")] = el.attrib
        elif tag in ("input", "select1", "select", "upload", "trigger", "range", "rank"):
            controls[el.attrib.get("ref")] = (tag, el)
    actions = set()
    for el in doc.iter():
        if local(el.tag) == "recordaudio":
            actions.add(el.attrib.get("ref"))

    items = {}

    def walk(node, xpath, path):
        seen = set()
        for child in node:
            name = local(child.tag)
            if name in seen:  # a repeat's first instance after its template
                continue
            seen.add(name)
            cxpath = f"{xpath}/{name}"
            cpath = f"{path}/{name}" if path else name
            if cpath == "meta" or cxpath in actions or GENERATED.match(name):
                continue
            bind = binds.get(cxpath, {})
            is_repeat = cxpath in repeats or f"{JR}template" in child.attrib
            if len(child) or is_repeat:
                item = {"kind": "repeat" if is_repeat else "group"}
                item["relevant"] = normalise(bind.get("relevant"), root_name)
                if is_repeat:
                    count = repeats.get(cxpath, {}).get(f"{JR}count")
                    item["count"] = count
                items[cpath] = item
                walk(child, cxpath, cpath)
                continue
            item = {"kind": "field", "type": field_type(bind, controls.get(cxpath))}
            for key, attr in (("relevant", "relevant"), ("constraint", "constraint"), ("calculation", "calculate")):
                item[key] = normalise(bind.get(attr), root_name)
            control = controls.get(cxpath)
            if control and control[0] in ("select1", "select", "rank"):
                itemset = control[1].find(f"{XF}itemset")
                if itemset is not None:
                    nodeset = itemset.attrib.get("nodeset", "")
                    m = re.match(r"\s*instance\('([^']+)'\)/root/item(?:\[(.*)\])?\s*$", nodeset, re.S)
                    if m and m.group(1) in lists:
                        item["choices"] = lists[m.group(1)]
                        item["choice_filter"] = normalise(m.group(2), root_name)
                    elif m:
                        item["choices"] = "file:" + m.group(1)
                        item["choice_filter"] = normalise(m.group(2), root_name)
                    else:
                        item["choices"] = "nodeset:" + normalise(nodeset, root_name)
                else:
                    item["choices"] = [
                        (i.findtext(f"{XF}value") or "").strip() for i in control[1].findall(f"{XF}item")
                    ]
            items[cpath] = item
        return items

    walk(root, "/" + root_name, "")
    # A repeat count that is not a plain reference goes through a generated `<repeat>_count`
    # calculate node: put its expression back in the count and drop the node.
    for path, item in list(items.items()):
        if item["kind"] != "repeat" or not item.get("count"):
            continue
        count = item["count"]
        generated = path + "_count"
        if count.strip() == f"/{root_name}/{generated}" and generated in items:
            item["count"] = items.pop(generated)["calculation"]
        else:
            item["count"] = normalise(count, root_name)
    return root_name, items


# Nodes pyxform adds to draw a `table-list` group as a table; not questions of the form.
GENERATED = re.compile(r"^(generated_table_list_label|reserved_name_for_field_list_labels)_\d+$")


def local(tag):
    return tag.rsplit("}", 1)[-1]


def field_type(bind, control):
    kind = bind.get("type", "string")
    preload = bind.get(f"{JR}preload")
    params = bind.get(f"{JR}preloadParams")
    if preload == "timestamp":
        return params  # start, end
    if preload == "date":
        return "today"
    if preload == "property":
        return {"deviceid": "deviceid", "uri:deviceid": "deviceid", "username": "username"}.get(params, params)
    if control is None:
        return "calculate" if bind.get("calculate") is not None else "hidden"
    tag, el = control
    if tag == "select1":
        return "select_one"
    if tag == "select":
        return "select_multiple"
    if tag == "rank":
        return "rank"
    if tag == "trigger":
        return "acknowledge"
    if tag == "range":
        return "range"
    if tag == "upload":
        media = el.attrib.get("mediatype", "")
        return {"image": "image", "audio": "audio", "video": "video"}.get(media.split("/")[0], "file")
    if kind == "string" and bind.get("readonly") == "true()" and bind.get("calculate") is None:
        return "note"
    return {
        "string": "text",
        "int": "integer",
        "decimal": "decimal",
        "date": "date",
        "time": "time",
        "dateTime": "datetime",
        "geopoint": "geopoint",
        "geotrace": "geotrace",
        "geoshape": "geoshape",
        "barcode": "barcode",
        "binary": "file",
    }.get(kind, kind)


def run_pyxform(path):
    """("ok", XForm text), ("refused", message) or ("crashed", message): pyxform's verdict."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = convert(xlsform=path, validate=False, pretty_print=False)
        except PyXFormError as e:
            return "refused", str(e)
        except Exception as e:  # a bug in pyxform, not a verdict on the workbook
            return "crashed", f"{type(e).__name__}: {e}"
    return "ok", result.xform


def odk_validate(xforms, workdir):
    """{name: message} of the XForms ODK Validate (JavaRosa, as ODK Central runs it) rejects.

    One JVM for every form: Validate takes many files and lists the ones that failed."""
    import subprocess

    import pyxform

    jar = os.path.join(os.path.dirname(pyxform.__file__), "validators", "odk_validate", "bin", "ODK_Validate.jar")
    paths = []
    for name, xml in xforms.items():
        p = os.path.join(workdir, name + ".xml")
        with open(p, "w", encoding="utf-8") as f:
            f.write(xml)
        paths.append(p)
    if not paths:
        return {}
    run = subprocess.run(
        ["java", "-Djava.awt.headless=true", "-jar", jar, *paths],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, so each reason follows its file's name
        text=True,
    )
    parts = run.stdout.split("The following files failed validation:", 1)
    if len(parts) < 2:
        if run.returncode != 0 or "Validating: " not in run.stdout:
            raise SystemExit(f"xlsform-differential: ODK Validate did not run: {short(run.stdout, 400)}")
        return {}
    failed = {
        os.path.basename(line.strip())[: -len(".xml")]
        for line in parts[1].splitlines()
        if line.strip().endswith(".xml")
    }
    out = {name: "ODK Validate rejects the XForm" for name in failed}
    current = None
    for line in parts[0].splitlines():
        if line.startswith("Validating: "):
            current = os.path.basename(line[len("Validating: "):].strip())[: -len(".xml")]
        elif current in failed and out[current] == "ODK Validate rejects the XForm" and "Exception: " in line:
            out[current] = "ODK Validate: " + line.split("Exception: ", 1)[1].strip()
    return out


# ---------------------------------------------------------------- Voices side


def voices_model(form, origins, flat=False):
    """The Voices form as {path: item} and the survey row of each path.

    `flat`: the workbook's settings ask for pyxform's flat instance (ODK Tables), where
    groups and repeats leave no element and their relevance is and-ed into each question's
    (pyxform's `add_flat_annotations`); Voices keeps them, so they are taken out here."""
    items, rows = {}, {}
    lists = form.get("choices", {})

    def walk(body, pointer, path, outer_relevant=""):
        for i, item in enumerate(body):
            ptr = f"{pointer}/{i}"
            name = item.get("name", "")
            cpath = f"{path}/{name}" if path else name
            origin = origins.get(ptr)
            if origin:
                rows[cpath] = origin["row"]
            kind = item.get("type")
            if flat:
                own = item.get("relevant") or ""
                relevant = f"{outer_relevant} and ({own})" if outer_relevant and own else outer_relevant or own
                if kind in ("group", "repeat"):
                    walk(item.get("body", []), ptr + "/body", path, relevant)
                    continue
                if relevant:
                    item = dict(item, relevant=relevant)
            if kind in ("group", "repeat"):
                out = {"kind": kind, "relevant": normalise(item.get("relevant"), None)}
                if kind == "repeat":
                    out["count"] = normalise(item.get("count"), None)
                items[cpath] = out
                walk(item.get("body", []), ptr + "/body", cpath)
                continue
            if kind == "consent":
                items[cpath] = {"kind": "consent"}
                continue
            out = {"kind": "field", "type": kind}
            if kind == "text" and item.get("read_only") is True and not item.get("calculation"):
                # An XForm cannot tell a read-only text from a note: both are a read-only
                # string input.
                out["type"] = "note"
            for key in ("relevant", "constraint", "calculation"):
                out[key] = normalise(item.get(key), None)
            if item.get("choices_file"):
                out["choices"] = "file:" + os.path.splitext(item["choices_file"])[0]
                out["choice_filter"] = normalise(item.get("choice_filter"), None)
            elif item.get("choices") is not None:
                out["choices"] = [c.get("name") for c in lists.get(item["choices"], [])]
                out["list"] = item["choices"]
                out["choice_filter"] = normalise(item.get("choice_filter"), None)
            items[cpath] = out

    walk(form.get("body", []), "/body", "")
    return items, rows


# ---------------------------------------------------------------- comparison


def compare(py_items, vo_items):
    """Differences as (path, what, pyxform's, Voices')."""
    diffs = []
    for path, p in py_items.items():
        v = vo_items.get(path)
        if v is None:
            diffs.append((path, "missing in Voices", p.get("type", p["kind"]), None))
            continue
        if p["kind"] != v["kind"]:
            diffs.append((path, "kind", p["kind"], v["kind"]))
            continue
        keys = ("type", "relevant", "constraint", "calculation", "choices", "choice_filter", "count")
        for key in keys:
            if key in p or key in v:
                pv, vv = p.get(key), v.get(key)
                if key == "type" and TYPE_EQUIV.get(vv, vv) == TYPE_EQUIV.get(pv, pv):
                    continue
                if pv != vv:
                    diffs.append((path, key, pv, vv))
    for path, v in vo_items.items():
        if path not in py_items and v["kind"] != "consent":
            diffs.append((path, "only in Voices", None, v.get("type", v["kind"])))
    return diffs


# In the XForm these differ only by what the enumerator sees, which is not compared here.
TYPE_EQUIV = {"hidden": "calculate"}


def deliberate_codes(doc_path):
    """Warning codes docs/xlsform.md lists under 'Differences from pyxform'."""
    text = open(doc_path, encoding="utf-8").read()
    m = re.search(r"^## Differences from pyxform\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        return set()
    return set(re.findall(r"^\|\s*`([a-z-]+)`", m.group(1), re.M))


def pyxform_row(error):
    m = re.search(r"\[row : (\d+)\]", error)
    return int(m.group(1)) if m else None


def sheet_of(error):
    m = re.search(r"'(survey|choices|settings|entities|external_choices)' sheet", error)
    return m.group(1) if m else None


def judge(verdict, detail, voices, allowed):
    """(passed, reason) for one workbook, given pyxform's verdict on it."""
    if "unreadable" in voices:
        return False, f"Voices cannot read it: {voices['unreadable']}"
    diagnostics = voices["diagnostics"]
    errors = [d for d in diagnostics if d["severity"] == "error"]
    if verdict == "crashed":
        # pyxform fails on its own bug: Voices may import it or refuse it, naming a place.
        if errors and not any(d.get("location") for d in errors):
            return False, "pyxform crashes; Voices refuses without naming a sheet"
        return True, f"pyxform crashes ({short(detail)}); Voices " + ("refuses" if errors else "imports it")
    if verdict == "refused":
        row = pyxform_row(detail)
        sheet = sheet_of(detail)
        if not errors:
            deliberate = [
                d for d in diagnostics
                if d["code"] in allowed and d.get("location")
                and (row is None or d["location"].get("row") == row)
            ]
            if deliberate:
                return True, f"pyxform refuses; Voices imports it with a warning [{deliberate[0]['code']}]"
            return False, f"pyxform refuses ({short(detail)}) but Voices imports it"
        located = [d for d in errors if d.get("location") and d["location"].get("row") is not None]
        if row is not None:
            at_row = [
                d for d in located
                if d["location"]["row"] == row
                and (sheet is None or d["location"]["sheet"].strip().lower() == sheet)
            ]
            if not at_row:
                return False, (
                    f"pyxform refuses at row {row} ({short(detail)}); Voices' errors: "
                    + "; ".join(render(d) for d in errors[:3])
                )
        elif not any(d.get("location") for d in errors):
            return False, "Voices refuses without naming a sheet: " + "; ".join(render(d) for d in errors[:3])
        return True, "both refuse"
    root, py_items = detail
    if errors:
        return False, "pyxform converts it; Voices refuses: " + "; ".join(render(d) for d in errors[:4])
    flat = any(d["code"] == "flat-instance" for d in diagnostics)
    vo_items, vo_rows = voices_model(voices["form"], voices["origins"], flat)
    warned = [
        d for d in diagnostics
        if d["severity"] == "warning" and d["code"] in allowed and (d.get("location") or {}).get("row") is not None
    ]
    # Sheet names are read case-insensitively (`SURVEY` is the survey), as pyxform reads them.
    warned_survey_rows = {
        d["location"]["row"] for d in warned if d["location"]["sheet"].strip().lower() == "survey"
    }

    def excused(path, what):
        # A deliberate warning on the row of the item or of a group or repeat around it …
        p = path
        while p:
            if vo_rows.get(p) in warned_survey_rows:
                return True
            p = p.rpartition("/")[0]
        # … or, for choices, on a row of the item's list.
        listname = (vo_items.get(path) or {}).get("list")
        return what == "choices" and listname is not None and any(
            d["location"]["sheet"].strip().lower() in ("choices", "external_choices")
            and f"'{listname}'" in d["message"]
            for d in warned
        )

    unexplained = [
        f"{path}: {what}: pyxform {pv!r}, Voices {vv!r}"
        for path, what, pv, vv in compare(py_items, vo_items)
        if not excused(path, what)
    ]
    if unexplained:
        more = f" (+{len(unexplained) - 3} more)" if len(unexplained) > 3 else ""
        return False, "forms differ: " + " | ".join(unexplained[:3]) + more
    return True, "agree"


def render(d):
    loc = d.get("location")
    at = ""
    if loc:
        at = loc["sheet"] + (f"!{loc['row']}" if loc.get("row") is not None else "") + ": "
    return f"{at}{short(d['message'])} [{d['code']}]"


def short(text, n=160):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def main():
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", required=True, help="JSON lines from the import_report example")
    ap.add_argument("--docs", required=True, help="docs/xlsform.md")
    ap.add_argument("--details", help="write every workbook's verdict here (TSV)")
    ap.add_argument("--known", help="the failures already known (markdown, `- NAME: reason` lines)")
    ap.add_argument("--bless", action="store_true", help="rewrite --known with this run's failures")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    allowed = deliberate_codes(args.docs)
    voices = {}
    for line in open(args.voices, encoding="utf-8"):
        entry = json.loads(line)
        voices[entry["file"]] = entry
    names = {path: f"{i:04}" for i, path in enumerate(args.files)}
    pyxform = {path: run_pyxform(path) for path in args.files}
    with tempfile.TemporaryDirectory() as workdir:
        rejected = odk_validate(
            {names[p]: xml for p, (verdict, xml) in pyxform.items() if verdict == "ok"}, workdir
        )
    passed = failed = 0
    verdicts = []
    for path in args.files:
        name = os.path.basename(path)
        verdict, detail = pyxform[path]
        if verdict == "ok" and names[path] in rejected:
            verdict, detail = "refused", rejected[names[path]]
        elif verdict == "ok":
            detail = xform_model(detail)
        if path not in voices:
            ok, reason = False, "no Voices report"
        else:
            ok, reason = judge(verdict, detail, voices[path], allowed)
        verdicts.append((name, "pass" if ok else "FAIL", reason))
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name}: {reason}")
    if args.details:
        with open(args.details, "w", encoding="utf-8") as f:
            for row in verdicts:
                f.write("\t".join(row) + "\n")
    return conclude(args, verdicts, passed, failed)


def conclude(args, verdicts, passed, failed):
    """Print the figure; fail on a workbook that fails and is not among the known failures."""
    failing = {name: reason for name, verdict, reason in verdicts if verdict == "FAIL"}
    if args.known and args.bless:
        with open(args.known, "w", encoding="utf-8") as f:
            f.write(
                "# Workbooks where Voices and pyxform do not agree yet\n\n"
                f"{passed} passed, {failed} failed (of {len(verdicts)}) on the corpus of "
                "docs/xlsform.md (\"Differential test against pyxform\").\n"
                "Regenerate with `VOICES_BLESS=1 scripts/xlsform-differential.sh`; a workbook that "
                "fails and is not listed here fails the test.\n\n"
            )
            for name in sorted(failing):
                f.write(f"- {name}: {failing[name]}\n")
    known = set()
    if args.known and os.path.exists(args.known):
        known = set(re.findall(r"^- (\S+?): ", open(args.known, encoding="utf-8").read(), re.M))
    new = sorted(set(failing) - known)
    fixed = sorted(n for n in known if n not in failing and any(n == v[0] for v in verdicts))
    if fixed:
        print(f"xlsform-differential: now passing, remove from {args.known} (VOICES_BLESS=1): {', '.join(fixed)}")
    if new:
        print(f"xlsform-differential: {len(new)} workbook(s) fail that did not before: {', '.join(new)}")
    print(f"xlsform-differential: {passed} passed, {failed} failed")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
