"""deploy/ stays consistent: the HAProxy config, the replicas script, compose.yaml, the Kubernetes manifest
and the Dockerfile agree on ports, on the health path (Streamlit's /_stcore/health), on cookie stickiness
and on the CPU requirements. Parsed here with yaml.safe_load and plain text rules, so the check runs
everywhere; `haproxy -c` and `docker compose config` run too where those tools are installed.

Each check is a function of the files' text, and test_the_checks_catch_broken_files feeds them broken
copies, so a check that cannot fail is itself a failure."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HEALTH = "/_stcore/health"  # Streamlit's health route (streamlit/web/server/starlette/starlette_routes.py)
COMPOSE_HAPROXY_CFG = "/usr/local/etc/haproxy/haproxy.cfg"  # where the haproxy image reads its config


def text(name: str) -> str:
    return (DEPLOY / name).read_text()


# ---------------------------------------------------------------------------------------------- HAProxy

def haproxy_sections(cfg: str) -> dict[str, list[list[str]]]:
    """{"frontend genlab": [[keyword, args...], ...], ...}; comments dropped."""
    sections, current = {}, None
    for raw in cfg.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw[0].isspace():
            current = sections.setdefault(line.strip(), [])
        elif current is not None:
            current.append(line.split())
    return sections


def haproxy_servers(cfg: str) -> dict[str, tuple[str, int, str]]:
    """{server name: (host, port, cookie value)} of the `replicas` backend."""
    servers = {}
    for words in haproxy_sections(cfg)["backend replicas"]:
        if words[0] == "server":
            host, port = words[2].rsplit(":", 1)
            cookie = words[words.index("cookie") + 1] if "cookie" in words else None
            servers[words[1]] = (host, int(port), cookie)
    return servers


def check_haproxy(cfg: str) -> None:
    sections = haproxy_sections(cfg)
    front = [" ".join(w) for w in sections["frontend genlab"]]
    assert any(re.fullmatch(r"bind 127\.0\.0\.1:\d+", line) for line in front), "HAProxy must listen on loopback"
    back = [" ".join(w) for w in sections["backend replicas"]]
    cookie = [line for line in back if line.startswith("cookie ")]
    assert cookie and cookie[0].split()[2] == "insert", "sticky sessions need `cookie NAME insert`"
    assert "option httpchk" in back
    sends = [f"{line} ".split(" uri ", 1)[-1].split()[0] for line in back if line.startswith("http-check send ")]
    assert sends == [HEALTH], "health checks must ask Streamlit's health route"
    assert "http-check expect status 200" in back
    assert any(line.startswith("default-server") and " check" in f" {line}" for line in back) \
        or all(" check" in line for line in back if line.startswith("server ")), "servers must be health-checked"
    defaults = [" ".join(w) for w in sections["defaults"]]
    assert "mode http" in defaults, "cookies and websocket upgrades need HTTP mode"
    assert any(line.startswith("timeout tunnel ") for line in defaults), "idle websockets need `timeout tunnel`"
    assert any(line.startswith("option redispatch") for line in defaults), \
        "a cookie naming a dead replica must fall back to a live one"
    servers = haproxy_servers(cfg)
    assert len(servers) >= 2
    assert all(host == "127.0.0.1" for host, _, _ in servers.values()), "replicas listen on loopback only"
    cookies = [c for _, _, c in servers.values()]
    assert None not in cookies and len(set(cookies)) == len(cookies), "each replica needs its own cookie value"
    ports = [p for _, p, _ in servers.values()]
    assert len(set(ports)) == len(ports)


def test_haproxy_config():
    check_haproxy(text("haproxy.cfg"))


def replicas_config(n: int) -> str:
    return subprocess.run(["bash", str(DEPLOY / "replicas.sh"), "config", str(n)], check=True,
                          capture_output=True, text=True, timeout=30).stdout


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_the_script_writes_one_server_per_replica_and_keeps_the_rest(n):
    cfg = replicas_config(n)
    servers = haproxy_servers(cfg)
    assert servers == {f"r{i}": ("127.0.0.1", 8510 + i, f"r{i}") for i in range(1, n + 1)}
    unchanged = lambda c: [line for line in c.splitlines() if not line.lstrip().startswith("server ")]  # noqa: E731
    assert unchanged(cfg) == unchanged(text("haproxy.cfg"))
    if n >= 2:
        check_haproxy(cfg)
    if n == 2:
        assert cfg == text("haproxy.cfg"), "for 2 replicas the script runs haproxy.cfg as written"


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (apt-get install -y haproxy)")
@pytest.mark.parametrize("n", [2, 3])
def test_haproxy_accepts_the_config(tmp_path, n):
    path = tmp_path / "haproxy.cfg"
    path.write_text(replicas_config(n))
    result = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------- compose

def compose_replicas(compose: dict) -> dict[str, dict]:
    """The services built from deploy/Dockerfile: the GenLab replicas."""
    return {name: s for name, s in compose["services"].items()
            if (s.get("build") or {}).get("dockerfile") == "deploy/Dockerfile"}


def check_compose(compose: dict, haproxy_cfg: str) -> None:
    services = compose["services"]
    replicas = compose_replicas(compose)
    assert len(replicas) >= 2, "compose runs at least two replicas"
    assert "haproxy" in services
    for name, service in replicas.items():
        assert (DEPLOY / service["build"]["context"]).resolve() == ROOT, f"{name}: build from the repository root"
        assert service.get("network_mode") == "host", f"{name}: on the host's loopback, as haproxy.cfg expects"
        assert service["environment"]["STREAMLIT_SERVER_ADDRESS"] == "127.0.0.1", f"{name}: loopback only"
    ports = sorted(int(s["environment"]["STREAMLIT_SERVER_PORT"]) for s in replicas.values())
    assert ports == sorted(p for _, p, _ in haproxy_servers(haproxy_cfg).values()), \
        "the replicas' ports must be HAProxy's server ports"
    proxy = services["haproxy"]
    assert proxy.get("network_mode") == "host"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in proxy["volumes"]}
    assert mounts.get(COMPOSE_HAPROXY_CFG) == "./haproxy.cfg", "HAProxy must run deploy/haproxy.cfg"
    assert set(proxy.get("depends_on", {})) == set(replicas), "HAProxy starts after every replica"


def test_compose_file():
    check_compose(yaml.safe_load(text("compose.yaml")), text("haproxy.cfg"))


def docker_compose() -> list[str] | None:
    if shutil.which("docker") is None:
        return None
    ok = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0
    return ["docker", "compose"] if ok else None


@pytest.mark.skipif(docker_compose() is None, reason="docker compose is not installed")
def test_docker_compose_accepts_the_file():
    result = subprocess.run([*docker_compose(), "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------- Kubernetes

def check_kubernetes(docs: list[dict]) -> None:
    by_kind = {d["kind"]: d for d in docs if d}
    assert set(by_kind) >= {"Deployment", "Service", "Ingress"}
    deployment, service, ingress = by_kind["Deployment"], by_kind["Service"], by_kind["Ingress"]

    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items(), "the Deployment must select its own pods"
    (container,) = spec["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert int(env["STREAMLIT_SERVER_PORT"]) in ports.values(), "Streamlit must listen on the container port"
    assert env.get("STREAMLIT_SERVER_ADDRESS") == "0.0.0.0", "in a pod, Streamlit must listen beyond loopback"
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == HEALTH, f"{probe} must ask Streamlit's health route"
        assert get["port"] in ports or get["port"] in ports.values()

    assert service["spec"]["selector"].items() <= labels.items(), "the Service must select the pods"
    targets = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
    assert all(t in ports or t in ports.values() for t in targets.values())

    notes = ingress["metadata"].get("annotations", {})
    assert notes.get("nginx.ingress.kubernetes.io/affinity") == "cookie", "the Ingress needs cookie affinity"
    assert notes.get("nginx.ingress.kubernetes.io/session-cookie-name")
    assert int(notes.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")) >= 3600, \
        "idle websockets outlive ingress-nginx's 60 s default"
    backends = [p["backend"]["service"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert backends and all(b["name"] == service["metadata"]["name"] for b in backends)
    assert all(b["port"].get("name") in targets or b["port"].get("number") in
               [p["port"] for p in service["spec"]["ports"]] for b in backends)


def test_kubernetes_manifest():
    check_kubernetes(list(yaml.safe_load_all(text("kubernetes.yaml"))))


def check_compose_schema(compose: dict) -> None:
    """compose.yaml against the Compose Specification's JSON schema (tests/fixtures/deploy/README.md)."""
    import jsonschema
    schema = json.loads((ROOT / "tests" / "fixtures" / "deploy" / "compose_spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, errors


def test_compose_file_fits_the_compose_specification():
    check_compose_schema(yaml.safe_load(text("compose.yaml")))


KUBERNETES_VERSION = "1.32.0"  # a release clusters still run; kubernetes-validate ships every release's schemas


def check_kubernetes_schema(docs: list[dict]) -> None:
    """Each resource against the Kubernetes API's own OpenAPI schema, strict (no unknown fields), offline."""
    validate = pytest.importorskip("kubernetes_validate")
    for doc in filter(None, docs):
        try:
            validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except validate.ValidationError as e:
            raise AssertionError(f"{doc['kind']}: {e}") from e


def test_kubernetes_manifest_fits_the_api_schema():
    check_kubernetes_schema(list(yaml.safe_load_all(text("kubernetes.yaml"))))


# ---------------------------------------------------------------------------------------------- Dockerfile

def dockerfile_instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in dockerfile.splitlines()
                                             if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in joined.splitlines() if line.strip()]


def check_dockerfile(dockerfile: str, ignore: str) -> None:
    steps = dockerfile_instructions(dockerfile)
    runs = [args for op, args in steps if op == "RUN"]
    assert any(re.search(r"pip install (.* )?-r requirements-cpu\.txt", r) for r in runs), \
        "the image installs the CPU requirements"
    assert not any(re.search(r"requirements(-dev)?\.txt", r) for r in runs), "not the CUDA/dev requirements"
    assert not any("torchvision" in args for _, args in steps), "no torchvision in the image"
    copies = [args for op, args in steps if op == "COPY"]
    assert any(c.split()[0] == "requirements-cpu.txt" for c in copies)
    (cmd,) = [args for op, args in steps if op == "CMD"]
    assert re.search(r'"streamlit",\s*"run",\s*"app.py"', cmd), "the container runs `streamlit run app.py`"
    health = [args for op, args in steps if op == "HEALTHCHECK"]
    assert health and HEALTH in health[0]
    env = " ".join(args for op, args in steps if op == "ENV")
    port = re.search(r"STREAMLIT_SERVER_PORT=(\d+)", env).group(1)
    assert any(args.split()[0] == port for op, args in steps if op == "EXPOSE")
    ignored = {line.strip().rstrip("/") for line in ignore.splitlines() if line.strip() and not line.startswith("#")}
    needed = {"app.py", "pages", "genlib", "quiz", "weights", ".streamlit", "requirements-cpu.txt"}
    assert not ignored & needed, f"the image needs {sorted(ignored & needed)}"


def test_dockerfile():
    check_dockerfile(text("Dockerfile"), text("Dockerfile.dockerignore"))


# ---------------------------------------------------------------------------------------------- the checks fail

def broken(source: str, old: str, new: str) -> str:
    assert old in source, f"the mutation's text {old!r} is gone: update this test"
    return source.replace(old, new)  # every occurrence: comments quote some of these too


def test_the_checks_catch_broken_files():
    cfg, compose, k8s = text("haproxy.cfg"), text("compose.yaml"), text("kubernetes.yaml")
    docker, ignore = text("Dockerfile"), text("Dockerfile.dockerignore")
    cases = [
        (check_haproxy, (broken(cfg, "cookie GENLAB_REPLICA insert", "cookie GENLAB_REPLICA rewrite"),)),
        (check_haproxy, (broken(cfg, f"uri {HEALTH}", "uri /healthz"),)),
        (check_haproxy, (broken(cfg, "timeout tunnel", "timeout queue"),)),
        (check_haproxy, (broken(cfg, "cookie r2", "cookie r1"),)),
        (check_haproxy, (broken(cfg, "option redispatch", "option dontlognull"),)),
        (check_compose, (yaml.safe_load(broken(compose, '"8512"', '"8599"')), cfg)),
        (check_compose, (yaml.safe_load(broken(compose, "./haproxy.cfg:", "./other.cfg:")), cfg)),
        (check_kubernetes, (list(yaml.safe_load_all(broken(k8s, "path: /_stcore/health", "path: /healthz"))),)),
        (check_kubernetes, (list(yaml.safe_load_all(broken(k8s, "affinity: cookie", "affinity: none"))),)),
        (check_kubernetes, (list(yaml.safe_load_all(broken(k8s, "name: genlab\n                port",
                                                           "name: other\n                port"))),)),
        (check_compose_schema, (yaml.safe_load(broken(compose, "network_mode:", "network_mood:")),)),
        (check_kubernetes_schema, (list(yaml.safe_load_all(broken(k8s, "replicas: 2", "replicas: two"))),)),
        (check_kubernetes_schema, (list(yaml.safe_load_all(broken(k8s, "readinessProbe:", "readynessProbe:"))),)),
        (check_dockerfile, (broken(docker, "-r requirements-cpu.txt", "-r requirements.txt"), ignore)),
        (check_dockerfile, (broken(docker, "/_stcore/health", "/healthz"), ignore)),
        (check_dockerfile, (docker, ignore + "weights\n")),
    ]
    missed = []
    for number, (check, args) in enumerate(cases):
        try:
            check(*args)
            missed.append(f"case {number} ({check.__name__})")
        except (AssertionError, KeyError):
            pass
    assert not missed, f"these broken files passed: {missed}"
