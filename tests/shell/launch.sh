#!/bin/sh
# tests/shell/launch.sh -- `shelf launch`: the sample profiles, the objects
# rendered for Kubernetes (validated offline with the npm package
# kubernetes-models, plus tests/launch/check_objects.py), YAML that reads
# back as the JSON, the apply path through the real kubectl, the local
# backend started for real (its server answering on loopback, a kernel in
# it seeing the collection), and bad input of every kind.
#
# No real Kubernetes API server can be installed where this runs, so kubectl
# talks to tests/launch/fake_apiserver.py, a loopback stand-in that answers
# discovery and records the objects it is sent.
. "$SHELF_SRCDIR/tests/lib.sh"

L=${SHELF_LAUNCH_BIN:-$SHELF_BUILDDIR/src/launch/shelf-launch}
T=$SHELF_SRCDIR/tests/launch
PY=/usr/bin/python3
KUBECTL=$(command -v kubectl)
if [ ! -x "$L" ]; then
    printf '1..1\nnot ok 1 - %s is built (make check builds it)\n' "$L"
    exit 1
fi

tmp=$(mktemp -d /tmp/shelf-launch-test.XXXXXX)
fakes=""
cleanup() {
    for f in "$tmp"/run/shelf/launch/*.json; do
        [ -e "$f" ] || continue
        n=${f##*/}
        "$L" stop "${n%.json}" >/dev/null 2>&1
    done
    for p in $fakes; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/run" "$tmp/cfg"
chmod 700 "$tmp/run"
HOME=$tmp/home
XDG_RUNTIME_DIR=$tmp/run
XDG_CONFIG_HOME=$tmp/home/.config
SHELF_LAUNCH_CONFIG=$SHELF_SRCDIR/etc/launch.lua
export HOME XDG_RUNTIME_DIR XDG_CONFIG_HOME SHELF_LAUNCH_CONFIG
unset KUBECONFIG SHELF_LAUNCH_BACKEND MODULEPATH LOADEDMODULES _LMFILES_

# ---- help, the sample profiles ------------------------------------------------
"$L" --help >"$tmp/help" 2>&1
for opt in --profile --user --name --collection --cpu --memory --gpus --image --kube \
    --backend --dry-run --output --context --namespace --kubeconfig --kubectl \
    --no-sandbox --timeout --config --list --json status logs stop Examples; do
    grep -q -- "$opt" "$tmp/help" || fail "--help mentions $opt"
done
pass "--help documents every option, the commands and examples"

out=$("$SHELF" launch --list 2>&1)
case $out in
*"prep "*"Data preparation on CPU"*"train "*"one GPU"*"infer "*"Inference on CPU"*)
    pass "shelf launch --list shows prep, train and infer with descriptions" ;;
*) fail "shelf launch --list shows prep, train and infer with descriptions" "$out" ;;
esac
is "$("$L" --list --json | $PY -c 'import json,sys; print(" ".join(p["name"] + ":" + str(p["gpus"]) for p in json.load(sys.stdin)))')" \
    "prep:0 train:1 infer:0" "--list --json: the three profiles and their GPUs"

# ---- rendered objects ------------------------------------------------------------
validator=""
if [ -d "$T/node_modules/kubernetes-models" ]; then
    validator=$T
elif command -v npm >/dev/null 2>&1; then
    mkdir -p "$tmp/npm"
    cp "$T/package.json" "$T/package-lock.json" "$T/validate.mjs" "$tmp/npm/"
    [ -f "$T/.npmrc" ] && cp "$T/.npmrc" "$tmp/npm/"
    (cd "$tmp/npm" && npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1) && validator=$tmp/npm
fi
validate() { # FILE NAME
    if [ -z "$validator" ]; then
        fail "$2" "kubernetes-models is not installed: npm ci failed (scripts/deps installs npm; see $tmp/npm.log)"
        return
    fi
    if v=$(node "$validator/validate.mjs" <"$1" 2>&1); then pass "$2"; else fail "$2" "$v"; fi
}
own_checks() { # FILE NAME ARGS...
    f=$1 n=$2
    shift 2
    if v=$($PY "$T/check_objects.py" "$f" "$@" 2>&1); then pass "$n"; else
        fail "$n" "$(printf '%s\n' "$v" | grep -v '^ok')"
    fi
}

for p in prep train infer; do
    gpus=0
    [ $p = train ] && gpus=1
    "$L" --profile $p --user alice --dry-run -o json >"$tmp/$p.json" 2>"$tmp/err"
    is "$?:$(cat "$tmp/err")" "0:" "$p: --dry-run -o json succeeds, silently"
    is "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["kind"], " ".join(i["kind"] for i in d["items"]))' "$tmp/$p.json")" \
        "List Secret Pod Service" "$p: a List of Secret, Pod and Service"
    validate "$tmp/$p.json" "$p: every object passes kubernetes-models' validate()"
    own_checks "$tmp/$p.json" "$p: read-only tree, GPUs only in limits, selectors, security, no unknown fields" \
        --gpus $gpus --collection $p
done
is "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["items"][1]["spec"]["containers"][0]; e={x["name"]: x.get("value") for x in c["env"]}; print(e["SHELF_LAUNCH_MODULES"], d["items"][1]["spec"]["nodeSelector"])' "$tmp/train.json")" \
    "cuda/12.2.2 torch/2.2.0 torchvision/0.17.0 {'gpu': 'true', 'notebook': 'true', 'org': 'public'}" \
    "train: the site collection's modules and the gpu=true node selector"

# the same through `shelf launch` (the wiring in the shelf command)
"$SHELF" launch --profile train --user alice --dry-run -o json >"$tmp/via-shelf.json"
is "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["kind"])' "$tmp/via-shelf.json")" \
    "List" "shelf launch --profile train --user alice --dry-run -o json prints a List"

# YAML reads back as the JSON (the token is random per run: compare without it)
cat >"$tmp/cfg/odd.lua" <<'EOF'
return {
  profiles = { {
    name = "odd", image = "img:1", command = { "serve", "--port={port}" },
    tree = { nfs = { server = "nfs.example.org", path = "/export/shelf" }, mount = "/opt/shelf" },
    modulepath = { "/opt/shelf/Core" },
    home = { host_path = "/home/{user}", mount = "/home/{user}" },
    env = { A = "yes", B = "0123", C = "a: b", D = "#x", E = "line1\nline2\n", F = "- x",
            G = " lead", H = "null", I = "tab\there", J = "quote\"s and \\", K = "~",
            L = "1.5", M = "@x", N = "{a}", O = "trailing\n\n", P = "é ü" },
  } },
}
EOF
norm='import json,sys
d=json.load(sys.stdin) if sys.argv[1]=="json" else __import__("yaml").safe_load(sys.stdin)
d["items"][0]["stringData"]["token"]="T"
print(json.dumps(d, sort_keys=True))'
for p in train odd; do
    cfg=
    [ $p = odd ] && cfg="--config $tmp/cfg/odd.lua"
    j=$("$L" $cfg --profile $p --user bob --dry-run -o json | $PY -c "$norm" json)
    y=$("$L" $cfg --profile $p --user bob --dry-run | $PY -c "$norm" yaml)
    if [ -n "$j" ] && [ "$j" = "$y" ]; then pass "$p: the YAML output reads back as the JSON"
    else fail "$p: the YAML output reads back as the JSON" "json: $j" "yaml: $y"; fi
done
"$L" --config "$tmp/cfg/odd.lua" --profile odd --user bob --dry-run -o json >"$tmp/odd.json"
validate "$tmp/odd.json" "nfs tree and hostPath home: objects pass validate()"
own_checks "$tmp/odd.json" "nfs tree: readOnly on the source and the mount"

# a Kubeflow Notebook
cat >"$tmp/cfg/nb.lua" <<'EOF'
return {
  collections = { train = { "cuda/12.2.2", "torch/2.2.0" } },
  profiles = { {
    name = "gpu-nb", kind = "notebook", image = "img:1", gpus = 2, port = 8888,
    command = { "jupyter", "lab", "--ServerApp.base_url={base_url}", "--ServerApp.token=" },
    tree = { host_path = "/srv/shelf", mount = "/opt/shelf" },
    modulepath = { "/opt/shelf/Core" },
    collection = "train",
  } },
}
EOF
"$L" --config "$tmp/cfg/nb.lua" --profile gpu-nb --user alice --dry-run >/dev/null 2>"$tmp/err"
case "$?:$(cat "$tmp/err")" in
1:*"needs"*|1:*"give --namespace"*) pass "a Notebook without --namespace is refused (its URL needs one)" ;;
*) fail "a Notebook without --namespace is refused" "$(cat "$tmp/err")" ;;
esac
"$L" --config "$tmp/cfg/nb.lua" --profile gpu-nb --user alice -n team-a --dry-run -o json >"$tmp/nb.json"
is "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["items"]; print(len(d), d[0]["apiVersion"], d[0]["kind"], d[0]["metadata"]["namespace"], d[0]["spec"]["template"]["spec"]["containers"][0]["args"][2])' "$tmp/nb.json")" \
    "1 kubeflow.org/v1 Notebook team-a --ServerApp.base_url=/notebook/team-a/alice-gpu-nb/" \
    "kind notebook: one kubeflow.org/v1 Notebook served under /notebook/NS/NAME/"
validate "$tmp/nb.json" "Notebook: metadata and pod template pass validate() (PodSpec)"
own_checks "$tmp/nb.json" "Notebook: hostPath tree read-only, 2 GPUs only in limits" --gpus 2 --collection train

# the user's saved collection wins over the site's, and travels in the pod
MODULEPATH=$SHELF_SRCDIR/modulefiles/Core
export MODULEPATH
eval "$("$SHELF" sh load torchvision)" && "$SHELF" sh save mine >/dev/null 2>&1
eval "$("$SHELF" sh purge)"
unset MODULEPATH LOADEDMODULES _LMFILES_
"$L" --profile prep --user alice --collection mine --dry-run -o json >"$tmp/mine.json"
is "$($PY -c 'import json,sys; c=json.load(open(sys.argv[1]))["items"][1]["spec"]["containers"][0]; e={x["name"]: x.get("value") for x in c["env"]}; print(e["SHELF_LAUNCH_COLLECTION"], "SHELF_LAUNCH_MODULES" in e, json.loads(e["SHELF_LAUNCH_COLLECTION_JSON"])["name"])' "$tmp/mine.json")" \
    "mine False mine" "--collection mine: the user's saved collection is carried into the pod"

# ---- bad input ----------------------------------------------------------------------
refuse() { # NAME EXPECTED-TEXT ARGS...
    n=$1 want=$2
    shift 2
    o=$("$L" "$@" 2>"$tmp/err")
    rc=$?
    case "$rc:$o:$(cat "$tmp/err")" in
    1::*"$want"*) pass "$n" ;;
    *) fail "$n" "exit $rc" "stdout: $o" "stderr: $(cat "$tmp/err")" "expected: $want" ;;
    esac
}
refuse "unknown profile" 'no profile "gpu" in' --profile gpu --user a --dry-run
refuse "CPU above the cap" '--cpu 32 is above what profile "train" allows (16)' \
    --profile train --user a --cpu 32 --dry-run
refuse "memory on a profile that allows no memory choice" 'does not let you choose the memory' \
    --profile infer --user a --memory 1Gi --dry-run
refuse "GPUs above the cap" 'allows at most 2' --profile train --user a --gpus 3 --dry-run
refuse "an image off the allow-list" 'image "evil/miner:1" is not allowed for profile "train"' \
    --profile train --user a --image evil/miner:1 --dry-run
refuse "a collection that exists nowhere" 'collection "nosuch" exists nowhere' \
    --profile prep --user a --collection nosuch --dry-run
refuse "a collection override the profile does not allow" 'does not let you choose the collection' \
    --config "$tmp/cfg/nb.lua" --profile gpu-nb -n x --user a --collection mine --dry-run
refuse "a name with nothing DNS-safe" 'has nothing DNS-safe' --profile prep --user a --name '!!!' --dry-run
refuse "a user with nothing DNS-safe" 'has nothing usable' --profile prep --user '___' --dry-run
"$L" --profile prep --user a --name 'Alice_Prep!' --dry-run -o json >"$tmp/n.json" 2>"$tmp/err"
is "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][1]["metadata"]["name"])' "$tmp/n.json"):$(grep -c 'using "alice-prep"' "$tmp/err")" \
    "alice-prep:1" "a name that is not DNS-safe is sanitised, and said so"
"$L" --profile prep --user 'Dr. Ümit O'"'"'Brien' --dry-run -o json >"$tmp/u.json"
own_checks "$tmp/u.json" "a user name with spaces, dots and non-ASCII gives valid names and labels"
long=$("$L" --profile prep --user "$(printf 'x%.0s' $(seq 80))" --dry-run -o json |
    $PY -c 'import json,sys; n=json.load(sys.stdin)["items"][1]["metadata"]["name"]; print(len(n) <= 63)')
is "$long" "True" "a very long user name gives a name of at most 63 characters"
# The suffix is the FNV-1a 32 of the user name: objects made before keep their names.
long=$("$L" --profile prep --user "$(printf 'x%.0s' $(seq 80))" --dry-run -o json |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][1]["metadata"]["name"])')
is "$long" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-67b9d905-prep" "a shortened name ends in the hash of the whole"

printf 'return {\n  profiles = {\n    { name = "x" image = "y" },\n  },\n}\n' >"$tmp/cfg/syntax.lua"
refuse "a config syntax error names the file and the line" "$tmp/cfg/syntax.lua:3:" \
    --config "$tmp/cfg/syntax.lua" --list
printf 'return {\n  profiles = {\n    {\n      name = "x",\n      image = "y", cpus = 2,\n    },\n  },\n}\n' >"$tmp/cfg/field.lua"
refuse "an unknown field names the file, the profile's line and the field" \
    "$tmp/cfg/field.lua:4: profile \"x\": profile: unknown field \"cpus\"" --config "$tmp/cfg/field.lua" --list
printf 'local n = 0\nwhile true do n = n + 1 end\n' >"$tmp/cfg/loop.lua"
refuse "a config that never ends is stopped" "$tmp/cfg/loop.lua:2: the configuration runs too long" \
    --config "$tmp/cfg/loop.lua" --list
printf 'local t = {}\nwhile true do t[#t+1] = ("x"):rep(1000) .. #t end\n' >"$tmp/cfg/mem.lua"
refuse "a config that eats memory is stopped" "needs more than 64 MiB of memory" \
    --config "$tmp/cfg/mem.lua" --list
printf 'return { profiles = { { name = "x", image = os.getenv("HOME") } } }\n' >"$tmp/cfg/os.lua"
refuse "the config has no os library (sandbox)" "$tmp/cfg/os.lua:1:" --config "$tmp/cfg/os.lua" --list
refuse "a missing config file" "cannot read the launch configuration: cannot open $tmp/none.lua" \
    --config "$tmp/none.lua" --list
"$L" --profile prep --bogus >/dev/null 2>&1
is "$?" "2" "an unknown option is a usage error (exit 2)"

# ---- apply through the real kubectl ---------------------------------------------------
start_fake() { # NAME [--fail-create KIND]
    n=$1
    shift
    rm -f "$tmp/$n.port"
    $PY "$T/fake_apiserver.py" "$tmp/$n.port" "$tmp/$n.log" "$@" &
    fakes="$fakes $!"
    i=0
    while [ ! -s "$tmp/$n.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    closed=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$tmp/$n.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "http://127.0.0.1:$(cat "$tmp/$n.port")"}
- name: closed
  cluster: {server: "http://127.0.0.1:$closed"}
contexts:
- name: fake
  context: {cluster: fake, user: u, namespace: team-a}
- name: closed
  context: {cluster: closed, user: u, namespace: team-a}
current-context: closed
users:
- name: u
  user: {token: not-a-real-token}
EOF
}
posts() { # LOG: METHOD path-without-query lines (no GETs)
    $PY -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["method"] != "GET": print(r["method"], r["path"].split("?")[0])' "$1"
}

if [ -z "$KUBECTL" ]; then
    fail "kubectl apply path" "no kubectl (scripts/deps installs Debian's kubernetes-client)"
else
    start_fake api
    K="--kubeconfig $tmp/api.kubeconfig --context fake"
    out=$("$L" --kube $K --profile train --user alice 2>"$tmp/err")
    rc=$?
    is "$rc:$(posts "$tmp/api.log" | tr '\n' ';')" \
        "0:POST /api/v1/namespaces/team-a/secrets;POST /api/v1/namespaces/team-a/pods;POST /api/v1/namespaces/team-a/services;" \
        "apply: one kubectl call creates Secret, Pod and Service (--context picks the cluster)"
    case $out in
    *"port-forward service/alice-train"*"/user/alice/train/?token="*) pass "apply: says how to reach the server" ;;
    *) fail "apply: says how to reach the server" "$out" "$(cat "$tmp/err")" ;;
    esac
    $PY -c 'import json,sys
sent = [json.loads(l)["body"] for l in open(sys.argv[1]) if json.loads(l)["method"] == "POST"]
json.dump({"apiVersion": "v1", "kind": "List", "items": sent}, open(sys.argv[2], "w"))' \
        "$tmp/api.log" "$tmp/sent.json"
    validate "$tmp/sent.json" "apply: the objects the API server received pass validate()"
    own_checks "$tmp/sent.json" "apply: the received Pod has the read-only tree and 1 GPU in limits" --gpus 1
    st=$("$L" --kube $K status alice-train 2>&1)
    case $st in
    *pod/alice-train*service/alice-train*secret/alice-train*) pass "status NAME lists the objects" ;;
    *) fail "status NAME lists the objects" "$st" ;;
    esac
    n0=$(posts "$tmp/api.log" | wc -l)
    refuse "a second launch of the same name is refused" "exists already (an earlier launch)" \
        --kube $K --profile train --user alice
    refuse "another user mapping to the same name is reported" \
        'the name "alice-train" is taken: Secret/alice-train belongs to user "alice" (user "Alice" maps' \
        --kube $K --profile train --user Alice
    is "$(posts "$tmp/api.log" | wc -l)" "$n0" "refused launches sent nothing to the API server"
    "$L" --kube $K stop alice-train 2>"$tmp/err"
    is "$?:$(posts "$tmp/api.log" | grep -c '^DELETE /api/v1/namespaces/team-a/')" "0:3" \
        "stop NAME deletes the Secret, Pod and Service"
    refuse "stop of a name that is not there" 'no launch named "alice-train"' --kube $K stop alice-train
    "$L" --kube $K -n team-b --profile infer --user bob >/dev/null 2>&1
    is "$(posts "$tmp/api.log" | grep -c '^POST /api/v1/namespaces/team-b/')" "3" \
        "--namespace puts the objects in that namespace"

    # failures: kubectl missing, failing, the cluster unreachable, partial creation
    o=$(PATH=/nonexistent "$L" --kube $K --profile prep --user alice 2>&1)
    case "$?:$o" in
    1:*"cannot run kubectl"*"kubernetes-client"*) pass "kubectl missing: a clear message" ;;
    *) fail "kubectl missing: a clear message" "$o" ;;
    esac
    refuse "kubectl failing: its exit status and what it said" "kubectl failed (exit status 1)" \
        --kube --kubectl /bin/false --profile prep --user alice
    o=$("$L" --kube --kubeconfig "$tmp/api.kubeconfig" --profile prep --user alice 2>&1)
    case "$?:$o" in
    1:*"kubectl failed"*"connection refused"*) pass "an unreachable cluster: kubectl's words, exit 1" ;;
    *) fail "an unreachable cluster: kubectl's words, exit 1" "$o" ;;
    esac

    start_fake broken --fail-create services
    KB="--kubeconfig $tmp/broken.kubeconfig --context fake"
    o=$("$L" --kube $KB --profile prep --user alice 2>&1)
    rc=$?
    is "$rc:$(posts "$tmp/broken.log" | tr '\n' ';')" \
        "1:POST /api/v1/namespaces/team-a/secrets;POST /api/v1/namespaces/team-a/pods;POST /api/v1/namespaces/team-a/services;DELETE /api/v1/namespaces/team-a/secrets/alice-prep;DELETE /api/v1/namespaces/team-a/pods/alice-prep;" \
        "a failed Service: the Secret and Pod it created are deleted again"
    case $o in
    *"broken on purpose"*"deleted what this launch had created: secret/alice-prep pod/alice-prep"*)
        pass "partial creation: kubectl's error and what was undone are said" ;;
    *) fail "partial creation: kubectl's error and what was undone are said" "$o" ;;
    esac
    is "$("$L" --kube $KB status 2>&1)" "shelf launch: nothing launched" \
        "partial creation: nothing is left"
fi

# ---- the local backend, for real ------------------------------------------------------
mount=/opt/shelf-launch-test-$$
cat >"$tmp/cfg/local.lua" <<EOF
local server = { "$PY", "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1",
  "--ServerApp.port={port}", "--ServerApp.base_url={base_url}",
  "--ServerApp.root_dir={home}", "--no-browser", "--allow-root",
  "--ServerApp.port_retries=0" }
return {
  defaults = {
    image = "img:1", command = server,
    tree = { pvc = "t", mount = "$mount", local_path = "$SHELF_SRCDIR/modulefiles" },
    modulepath = { "$mount/Core" },
  },
  collections = { infer = { "torch/2.2.0" }, broken = { "nosuchmodule/1.0" } },
  profiles = {
    { name = "infer", collection = "infer" },
    { name = "broken", collection = "broken" },
    { name = "dies", command = { "/bin/sh", "-c", "echo going away; exit 3" } },
  },
}
EOF
export SHELF_LAUNCH_CONFIG="$tmp/cfg/local.lua"
url=$("$L" --profile infer --timeout 40 2>"$tmp/err")
rc=$?
case "$rc:$url" in
0:http://127.0.0.1:*/user/*/infer/\?token=*) pass "local: starts and prints the URL with the token" ;;
*) fail "local: starts and prints the URL with the token" "$url" "$(cat "$tmp/err")" ;;
esac
sandboxed=0
grep -q "mounted read-only at $mount (bubblewrap)" "$tmp/err" && sandboxed=1
if [ -x /usr/bin/bwrap ]; then
    is "$sandboxed" "1" "local: bubblewrap shows the tree read-only at the mount path"
fi
[ -e "$mount" ] && fail "local: the mount path was not created on the host" || pass "local: the mount path was not created on the host"
$PY "$T/kernel_env.py" "$url" "$mount" >"$tmp/kernel.json" 2>"$tmp/kernel.err"
is "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["ran"]; e=d["environ"]
print(d["status"], r["LOADEDMODULES"], r["torch_demo"].startswith(sys.argv[2] + "/sw/torch/2.2.0/"), r["tree_writable"], r["shelf"].endswith("shelf/__init__.py"), e["LOADEDMODULES"], e["MODULEPATH"])' "$tmp/kernel.json" "$mount" 2>&1)" \
    "200 python/3.11.8:torch/2.2.0 True False True python/3.11.8:torch/2.2.0 $mount/Core" \
    "local: api/status answers; a kernel has the collection, imports from the read-only tree and shelf"
term=$($PY "$T/terminal_env.py" "$url" 2>&1)
case $term in
"TYPE=function LM=python/3.11.8:torch/2.2.0 python/3.11.8 torch/2.2.0 END"*)
    pass "local: a Jupyter terminal has the collection and the module function" ;;
*) fail "local: a Jupyter terminal has the collection and the module function" "$term" ;;
esac
[ -f "$XDG_CONFIG_HOME/shelf/collections/infer.json" ] && pass "local: the site collection was saved for the user" ||
    fail "local: the site collection was saved for the user"
st=$("$L" status 2>&1)
case $st in
*"infer "*"running "*"$url"*) pass "local: status shows it running, with its URL" ;;
*) fail "local: status shows it running, with its URL" "$st" ;;
esac
refuse "local: a second start of the same name is refused" '"infer" is running already' --profile infer
refuse "local: another user is refused" "runs servers as you" --profile infer --user someone-else
pid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$tmp/run/shelf/launch/infer.json")
"$L" stop infer 2>"$tmp/err"
rc=$?
gone=1
kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && gone=0
is "$rc:$gone:$(ls "$tmp/run/shelf/launch" | wc -l)" "0:1:0" "local: stop ends the server and removes its state"
is "$("$L" status 2>&1)" "shelf launch: no local servers" "local: status after stop"

# a collection saved inside the sandbox names modulefiles under the mount
# path, which a plain environment does not have: start from the site's
rm -f "$XDG_CONFIG_HOME/shelf/collections/infer.json"
url=$("$L" --profile infer --no-sandbox --json 2>"$tmp/err" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["sandbox"], d["tree"], d["url"])')
case "$url" in
"none $SHELF_SRCDIR/modulefiles http://"*) pass "local --no-sandbox: a plain environment at the tree's real path" ;;
*) fail "local --no-sandbox: a plain environment at the tree's real path" "$url" "$(cat "$tmp/err")" ;;
esac
grep -q "no sandbox (--no-sandbox): a plain environment" "$tmp/err" && pass "local --no-sandbox: said clearly" ||
    fail "local --no-sandbox: said clearly" "$(cat "$tmp/err")"
"$L" stop infer 2>/dev/null

refuse "local: a collection whose modules do not load: the server's words" \
    "cannot load the modules of broken" --profile broken --timeout 30
refuse "local: a server that exits at once" "exited (status 3) before answering" --profile dies
is "$(ls "$tmp/run/shelf/launch" | grep -c 'json$')" "0" "local: failed starts leave no state (their logs stay)"
o=$("$L" logs dies 2>&1)
is "$?:$o" "0:going away" "local: logs NAME prints a server's output"

done_testing
