"""Checks compose.yaml against the seed's setup and the Containerfile (no container engine
needed): service data-ingestion-service, port 3006, network cinema_network, env_file
.env.docker, the image's HEALTHCHECK and start command, and the env files it names.
Usage: check_compose.py [REPO_ROOT]. Prints one line per problem; exit 1 when any."""
import re
import sys
from pathlib import Path

import yaml

SERVICE = "data-ingestion-service"


def containerfile_instructions(text):
    """The Containerfile's final stage as (INSTRUCTION, arguments) pairs, lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    lines = [l.strip() for l in joined.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    pairs = [tuple((l.split(None, 1) + [""])[:2]) for l in lines]
    last_from = max(i for i, (op, _) in enumerate(pairs) if op.upper() == "FROM")
    return [(op.upper(), args.strip()) for op, args in pairs[last_from:]]


def healthcheck_of(instructions):
    """The HEALTHCHECK's options and its shell command."""
    args = dict(instructions)["HEALTHCHECK"]
    options, command = args.split(" CMD ", 1)
    opts = dict(o.lstrip("-").split("=", 1) for o in options.split())
    return opts, " ".join(command.split())


def check(root):
    problems = []
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    service = compose.get("services", {}).get(SERVICE)
    if service is None:
        return [f"compose.yaml: no service {SERVICE}"]
    if "3006:3006" not in [str(p) for p in service.get("ports", [])]:
        problems.append(f"{SERVICE}: ports {service.get('ports')} lack 3006:3006")
    nets = service.get("networks", [])
    if "cinema_network" not in nets:
        problems.append(f"{SERVICE}: networks {nets} lack cinema_network")
    if "cinema_network" not in (compose.get("networks") or {}):
        problems.append("compose.yaml: the top-level networks do not define cinema_network")
    env_file = service.get("env_file")
    if env_file not in (".env.docker", [".env.docker"]):
        problems.append(f"{SERVICE}: env_file is {env_file!r}, expected .env.docker")
    if not (root / "env.docker.example").is_file():
        problems.append("env.docker.example is missing (the template of .env.docker)")
    build = service.get("build", {})
    if not (root / build.get("dockerfile", "?")).is_file():
        problems.append(f"{SERVICE}: build.dockerfile {build.get('dockerfile')!r} is not a file")
    problems += check_against_containerfile(root, service)
    return problems


def check_against_containerfile(root, service):
    problems = []
    ins = containerfile_instructions((root / "Containerfile").read_text())
    found = dict(ins)
    if "3006" not in found.get("EXPOSE", "").split():
        problems.append("Containerfile: the runtime stage does not EXPOSE 3006")
    if found.get("ENTRYPOINT") != '["data-ingestion"]':
        problems.append(f"Containerfile: ENTRYPOINT is {found.get('ENTRYPOINT')}")
    if yaml.safe_load(found.get("CMD", "[]")) != service.get("command"):
        problems.append(f"compose command {service.get('command')} is not the image's CMD")
    if found.get("USER") in (None, "root", "0"):
        problems.append("Containerfile: the runtime stage runs as root")
    opts, command = healthcheck_of(ins)
    want = service.get("healthcheck", {})
    test = want.get("test", [])
    if test[:1] != ["CMD-SHELL"] or " ".join(" ".join(test[1:]).split()) != command:
        problems.append(f"compose healthcheck {test} is not the image's: CMD-SHELL {command}")
    if "http://127.0.0.1:3006/health" not in command:
        problems.append(f"the HEALTHCHECK does not ask :3006/health: {command}")
    for key in ("interval", "timeout", "start_period", "retries"):
        image_value = opts.get(key.replace("_", "-"))
        if str(want.get(key)) != image_value:
            problems.append(f"healthcheck {key}: compose {want.get(key)}, image {image_value}")
    return problems


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    problems = check(root)
    for p in problems:
        print(p)
    if not problems:
        print(f"compose.yaml: {SERVICE} fits (port 3006, cinema_network, .env.docker, healthcheck)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
