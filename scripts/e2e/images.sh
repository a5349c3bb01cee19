#!/usr/bin/env bash
# Build the local stand-in base images for the end-to-end tests, once.
#
# There is no registry here: every base image the tests use is made locally
# and tagged with the real name, so the codemod's base-image catalog knows the
# family. Each stand-in carries LABEL io.peak-fix.stand-in=<name> (plus
# io.peak-fix.stand-in.rev). A tag that already exists is skipped; an existing
# image WITHOUT the label (a real image on a laptop) is used as is and never
# overwritten or retagged. A stand-in of an older rev is rebuilt.
#
#   debian:bookworm-slim                debian      debootstrap minbase bookworm
#   debian:bullseye-slim                bullseye    debootstrap minbase bullseye
#   node:20-bookworm-slim               node        debian + user/group node 1000
#   python:3.11-slim-bookworm           python      debootstrap + python3 (3.11)
#     (also tagged python:3.11-slim)
#   alpine:3.19                         alpine      scratch + static busybox
#   bitnami/python:3.11                 bitnami     python, root (bitnami's runtimes end with no USER)
#   gcr.io/distroless/static-debian12   distroless  scratch + /hello (static C)
#   nginx:1.27                          nginx       debian + Debian's nginx binary in nginx.org's layout
#   redis:7.2-bookworm                  redis       debian + Debian's redis binary in the official layout
#     (servers: Debian's .debs are fetched on the host with apt-get download
#      and unpacked in the build, which has no network)
#
# Stand-ins for the facts of issue 9, each with the TRUE facts of the image it
# is named after (the URL in its recipe is the Dockerfile read):
#   bitnami/minideb:bookworm            minideb     debian + install_packages, root
#   memcached:1.6                       memcached   debian + memcache 11211, USER memcache
#   registry.access.redhat.com/ubi9/ubi-minimal:9.4
#                                       ubi-minimal debian WITHOUT useradd/adduser/groupadd
#                                                   and no microdnf (a Debian stand-in, labelled so)
#   mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled
#                                       chiseled    scratch + /hello + passwd root/app 1654, USER 1654
#   node:20-alpine                      node-alpine alpine + node 1000 (busybox adduser)
#   mcr.microsoft.com/powershell:lts-ubuntu-22.04
#                                       powershell  debian + a pwsh stand-in script, root
#
# Stand-ins for issue 18 (bases 1.1 broke):
#   quay.io/centos/centos:stream9       centos      debian + a dnf stand-in (true facts: root, useradd;
#                                                   sclorg s2i-base-container core/Dockerfile.c9s runs
#                                                   useradd FROM it as root)
#   registry.access.redhat.com/ubi9/python-312-minimal:1
#                                       py_minimal  python without user tools, find kept, USER 1001 with no
#                                                   passwd entry, HOME /opt/app-root/src (sclorg
#                                                   s2i-python-container 3.12-minimal: ubi-minimal, no
#                                                   shadow-utils, installs findutils, ends USER 1001)
#   registry.corp.example/platform/runtime:1
#                                       runtime     an organisation's base no catalog knows (a made-up
#                                                   name, no public image): debian + app 1000, USER app
#   quay.io/jupyter/base-notebook:latest
#                                       jupyter     debian + jovyan 1000 in group users (100), /opt/conda and
#                                                   /home/jovyan group users g+rwX (setgid), HOME /home/jovyan,
#                                                   USER 1000 (jupyter/docker-stacks docker-stacks-foundation:
#                                                   useradd --uid 1000 --no-user-group, fix-permissions)
#
# Usage: images.sh [--rebuild]   (--rebuild: drop the stand-ins first; the
# compiled busybox cached under .e2e-work/busybox/ is kept)
set -euo pipefail
E2E_TAG=images
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

export DOCKER_BUILDKIT=0
LABEL=io.peak-fix.stand-in
# Bump when a stand-in's recipe changes: older stand-ins are then rebuilt.
REV=1
rev_of() { printf '%s' "$REV"; }

# wrong_facts TAG NAME -> 0 when a stand-in of the current rev still encodes a
# corrected belief (made by an older recipe): it is rebuilt. Checking the fact
# itself, not a new rev, keeps older copies of this script (other branches,
# same daemon) from rebuilding the old belief back.
wrong_facts() {
  case "$2" in
    # bitnami/python is root (bitnami/containers bitnami/python/*/Dockerfile has no USER)
    bitnami) [[ -n $(docker image inspect -f '{{.Config.User}}' "$1" 2>/dev/null) ]] ;;
    # ubi-minimal has no findutils (like the user tools, see make_ubi_minimal)
    ubi_minimal) docker run --rm --network=none --pull=never --entrypoint /bin/sh "$1" -c 'command -v find' >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}
STD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

T_DEBIAN=debian:bookworm-slim
T_BULLSEYE=debian:bullseye-slim
T_NODE=node:20-bookworm-slim
T_PYTHON=python:3.11-slim-bookworm
T_PYTHON_ALIAS=python:3.11-slim
T_ALPINE=alpine:3.19
T_BITNAMI=bitnami/python:3.11
T_DISTROLESS=gcr.io/distroless/static-debian12
T_MINIDEB=bitnami/minideb:bookworm
T_MEMCACHED=memcached:1.6
T_UBI_MINIMAL=registry.access.redhat.com/ubi9/ubi-minimal:9.4
T_CHISELED=mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled
T_NODE_ALPINE=node:20-alpine
T_POWERSHELL=mcr.microsoft.com/powershell:lts-ubuntu-22.04
T_CENTOS=quay.io/centos/centos:stream9
T_PY_MINIMAL=registry.access.redhat.com/ubi9/python-312-minimal:1
T_RUNTIME=registry.corp.example/platform/runtime:1
T_JUPYTER=quay.io/jupyter/base-notebook:latest
T_NGINX=nginx:1.27
T_REDIS=redis:7.2-bookworm

LOGS="$E2E_WORK/logs"
ROOTFS="$E2E_WORK/rootfs"
mkdir -p "$LOGS" "$ROOTFS"

# ------------------------------------------------------------------ helpers --
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }

# needs_build TAG -> 0 when TAG must be (re)built
needs_build() {
  local tag="$1" name rev want
  image_exists "$tag" || return 0
  name=$(image_label "$tag" "$LABEL")
  if [[ -z $name || $name == '<no value>' ]]; then
    e2e_log "$tag exists without the $LABEL label: using it as is"
    return 1
  fi
  rev=$(image_label "$tag" "$LABEL.rev")
  want=$(rev_of "$name")
  if [[ $rev != "$want" ]]; then
    e2e_log "$tag is a stand-in of rev '$rev' (want $want): rebuilding"
    docker image rm "$tag" >/dev/null 2>&1 || true
    return 0
  fi
  if wrong_facts "$tag" "$name"; then
    e2e_log "$tag encodes a corrected belief (older recipe): rebuilding"
    docker image rm "$tag" >/dev/null 2>&1 || true
    return 0
  fi
  return 1
}

# safe_rm DIR: unmount anything left mounted below DIR, then delete it
safe_rm() {
  local dir="$1" m
  [[ -e $dir ]] || return 0
  dir="$(cd "$dir" && pwd -P)"
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# The Debian mirror the host's apt uses (so no host name is written here); empty
# lets debootstrap use its default.
host_codename() { (. /etc/os-release && printf '%s' "${VERSION_CODENAME:-bookworm}"); }
debian_mirror() {
  local code
  code=$(host_codename)
  apt-get indextargets --format '$(SITE) $(RELEASE)' 'Identifier: Packages' 2>/dev/null |
    awk -v c="$code" '$2 == c { print $1; exit }'
}

# debootstrap_rootfs SUITE DIR [debootstrap options...]
debootstrap_rootfs() {
  local suite="$1" dir="$2" mirror
  shift 2
  mirror=$(debian_mirror)
  safe_rm "$dir"
  # shellcheck disable=SC2086
  debootstrap --variant=minbase "$@" "$suite" "$dir" $mirror
  # slim it down like the official -slim images, drop host files
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  rm -f "$dir"/etc/resolv.conf "$dir"/etc/hostname
}

# import_rootfs DIR TAG NAME [extra --change lines...]
import_rootfs() {
  local dir="$1" tag="$2" name="$3" c
  shift 3
  local changes=(-c "LABEL $LABEL=$name $LABEL.rev=$(rev_of "$name")")
  for c in "$@"; do changes+=(-c "$c"); done
  tar --numeric-owner -C "$dir" -cf - . | docker import "${changes[@]}" - "$tag" >/dev/null
}

# build_from TAG NAME DOCKERFILE-TEXT [context files...]
build_from() {
  local tag="$1" name="$2" text="$3" ctx
  shift 3
  ctx="$E2E_WORK/ctx-$name"
  safe_rm "$ctx"
  mkdir -p "$ctx"
  printf '%s\nLABEL %s=%s %s.rev=%s\n' "$text" "$LABEL" "$name" "$LABEL" "$(rev_of "$name")" >"$ctx/Dockerfile"
  docker build --network=none --force-rm -q -t "$tag" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# ------------------------------------------------------------ image recipes --
make_debian() {
  local dir="$ROOTFS/bookworm"
  debootstrap_rootfs bookworm "$dir"
  import_rootfs "$dir" "$T_DEBIAN" debian "ENV PATH=$STD_PATH" 'CMD ["bash"]'
  safe_rm "$dir"
}

make_bullseye() {
  local dir="$ROOTFS/bullseye"
  debootstrap_rootfs bullseye "$dir"
  import_rootfs "$dir" "$T_BULLSEYE" bullseye "ENV PATH=$STD_PATH" 'CMD ["bash"]'
  safe_rm "$dir"
}

make_python() {
  local dir="$ROOTFS/python"
  debootstrap_rootfs bookworm "$dir" --include=python3
  # the official image has python/python3 in /usr/local/bin
  ln -s /usr/bin/python3 "$dir/usr/local/bin/python3"
  ln -s /usr/bin/python3 "$dir/usr/local/bin/python"
  import_rootfs "$dir" "$T_PYTHON" python "ENV PATH=$STD_PATH" 'ENV LANG=C.UTF-8' 'CMD ["python3"]'
  safe_rm "$dir"
}

make_node() {
  build_from "$T_NODE" node "FROM $T_DEBIAN
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node"
}

make_bitnami() {
  # bitnami/python is a root image: its Dockerfile (bitnami/containers,
  # bitnami/python/3.12/debian-12/Dockerfile) has no USER; only bitnami's
  # application images (bitnami/nginx...) end in USER 1001.
  build_from "$T_BITNAMI" bitnami "FROM $T_PYTHON
WORKDIR /app
CMD [\"python\"]"
}

# bitnami/minideb (github.com/bitnami/minideb): a root Debian base with an
# install_packages helper around apt-get.
make_minideb() {
  build_from "$T_MINIDEB" minideb "FROM $T_DEBIAN
RUN printf '#!/bin/sh\\nset -e\\napt-get update -qq\\napt-get install -y --no-install-recommends \"\$@\"\\nrm -rf /var/lib/apt/lists/*\\n' >/usr/sbin/install_packages && chmod 755 /usr/sbin/install_packages
CMD [\"bash\"]"
}

# memcached (docker-library/memcached 1.6/bookworm/Dockerfile): user and group
# memcache 11211, ENTRYPOINT docker-entrypoint.sh, USER memcache. The server
# itself is a script that says who runs it.
make_memcached() {
  build_from "$T_MEMCACHED" memcached "FROM $T_DEBIAN
RUN groupadd --system --gid 11211 memcache && useradd --system --gid memcache --uid 11211 memcache
RUN printf '#!/bin/sh\\necho \"memcached stand-in as \$(id -un)\"\\n' >/usr/local/bin/memcached && chmod 755 /usr/local/bin/memcached
USER memcache
EXPOSE 11211
CMD [\"memcached\"]"
}

# ubi-minimal (Red Hat UBI 9 minimal): a shell and microdnf, no shadow-utils
# (wildfly/wildfly-container#187) and no findutils (images built on it run
# `microdnf install -y findutils` to get find/xargs). A DEBIAN stand-in with
# every user tool and find removed, and no microdnf: what the rewrite relies
# on is exactly that neither exists.
make_ubi_minimal() {
  build_from "$T_UBI_MINIMAL" ubi_minimal "FROM $T_DEBIAN
LABEL io.peak-fix.stand-in.note=\"Debian without user tools, standing in for ubi-minimal\"
RUN rm -f /usr/sbin/useradd /usr/sbin/groupadd /usr/sbin/usermod /usr/sbin/groupmod /usr/sbin/userdel /usr/sbin/groupdel /usr/sbin/newusers /usr/sbin/adduser /usr/sbin/addgroup /usr/sbin/deluser /usr/sbin/delgroup /usr/bin/busybox /usr/bin/find /usr/bin/xargs \\
 && ! command -v useradd && ! command -v adduser && ! command -v find && ! command -v microdnf
CMD [\"/bin/bash\"]"
}

# node:20-alpine (nodejs/docker-node 20/alpine3.20/Dockerfile): Alpine plus
# addgroup -g 1000 node && adduser -u 1000 -G node -s /bin/sh -D node.
make_node_alpine() {
  build_from "$T_NODE_ALPINE" node_alpine "FROM $T_ALPINE
RUN addgroup -g 1000 node && adduser -u 1000 -G node -s /bin/sh -D node
CMD [\"/bin/sh\"]"
}

# mcr.microsoft.com/powershell:lts-ubuntu-22.04 (PowerShell/PowerShell-Docker
# release/7-4/ubuntu22.04/docker/Dockerfile): a Linux image, root, CMD pwsh.
# A Debian stand-in whose pwsh runs (cats) the script it is given.
make_powershell() {
  build_from "$T_POWERSHELL" powershell "FROM $T_DEBIAN
RUN printf '#!/bin/sh\\nif [ -n \"\$1\" ]; then cat \"\$1\"; else echo PowerShell stand-in; fi\\n' >/usr/bin/pwsh && chmod 755 /usr/bin/pwsh
CMD [\"pwsh\"]"
}

# quay.io/centos/centos:stream9: root, shadow-utils' useradd (sclorg's s2i-core-c9s
# runs useradd FROM it as root without installing it); findutils is not claimed
# (s2i-core installs it), so the stand-in has none. A Debian stand-in whose dnf and
# yum only say what they would install: the build has no network.
make_centos() {
  build_from "$T_CENTOS" centos "FROM $T_DEBIAN
LABEL io.peak-fix.stand-in.note=\"Debian with a dnf stand-in, standing in for CentOS Stream 9 (root, useradd)\"
RUN printf '#!/bin/sh\\necho \"dnf stand-in: \$*\"\\n' >/usr/bin/dnf && chmod 755 /usr/bin/dnf && ln -s dnf /usr/bin/yum \\
 && rm -f /usr/bin/find /usr/bin/xargs && ! command -v find
CMD [\"/bin/bash\"]"
}

# sclorg's python-312-minimal (s2i-python-container 3.12-minimal/Dockerfile.rhel9):
# FROM ubi9-minimal (no shadow-utils), installs findutils, makes /opt/app-root/src,
# sets HOME to it, and ends USER 1001 with no passwd entry for 1001.
make_py_minimal() {
  build_from "$T_PY_MINIMAL" py_minimal "FROM $T_PYTHON
LABEL io.peak-fix.stand-in.note=\"Debian python without user tools, standing in for ubi9/python-312-minimal (its python is 3.11)\"
RUN rm -f /usr/sbin/useradd /usr/sbin/groupadd /usr/sbin/usermod /usr/sbin/groupmod /usr/sbin/userdel /usr/sbin/groupdel /usr/sbin/newusers /usr/sbin/adduser /usr/sbin/addgroup /usr/sbin/deluser /usr/sbin/delgroup /usr/bin/busybox \\
 && ! command -v useradd && ! command -v adduser && command -v find \\
 && mkdir -p /opt/app-root/src && chown -R 1001:0 /opt/app-root && chmod -R g=u /opt/app-root
ENV HOME=/opt/app-root/src
WORKDIR /opt/app-root/src
USER 1001
CMD [\"python3\"]"
}

# An organisation's own runtime base that ends as a non-root user; the name is
# made up, so no catalog can know it (and no fact of a public image is claimed).
make_runtime() {
  build_from "$T_RUNTIME" runtime "FROM $T_DEBIAN
RUN groupadd --gid 1000 app && useradd --uid 1000 --gid app --create-home app
USER app
CMD [\"bash\"]"
}

# quay.io/jupyter/base-notebook (jupyter/docker-stacks docker-stacks-foundation,
# FROM ubuntu): useradd --no-log-init --create-home --shell /bin/bash --uid 1000
# --no-user-group jovyan (group users, 100); fix-permissions gives /opt/conda and
# /home/jovyan to group users with g+rwX and setgid directories; ENV HOME; USER 1000.
make_jupyter() {
  build_from "$T_JUPYTER" jupyter "FROM $T_DEBIAN
RUN useradd --no-log-init --create-home --shell /bin/bash --uid 1000 --no-user-group jovyan \\
 && mkdir -p /opt/conda/bin \\
 && for d in /opt/conda /home/jovyan; do chgrp -R 100 \"\$d\" && chmod -R g+rwX \"\$d\" && find \"\$d\" -type d -exec chmod g+s {} +; done
ENV HOME=/home/jovyan
WORKDIR /home/jovyan
USER 1000
CMD [\"bash\"]"
}

# A static busybox WITH adduser/addgroup (Debian's busybox-static has neither),
# compiled once from Debian's source package and cached in .e2e-work/busybox/.
BB_DIR="$E2E_WORK/busybox"
BB_BIN="$BB_DIR/busybox"
busybox_ok() {
  [[ -x $1 ]] && "$1" --list 2>/dev/null | grep -qx adduser && "$1" --list | grep -qx addgroup
}

compile_busybox() {
  if busybox_ok "$BB_BIN"; then
    echo "reusing cached $BB_BIN"
    return 0
  fi
  local apt="$BB_DIR/apt" src="$BB_DIR/src" code keyring tree
  code=$(host_codename)
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  safe_rm "$apt"
  safe_rm "$src"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$src"
  # A private apt configuration with deb-src lines for the host's own Debian
  # suites: the system's apt configuration is not touched.
  apt-get indextargets --format '$(SITE) $(RELEASE)' 'Identifier: Packages' |
    awk -v c="$code" -v k="$keyring" '$2 == c || $2 == c "-updates" || $2 == c "-security" {
      print "deb-src [signed-by=" k "] " $1 " " $2 " main" }' | sort -u >"$apt/sources.list"
  if [[ ! -s "$apt/sources.list" ]]; then
    echo "no Debian $code suite in the host's apt sources" >&2
    return 1
  fi
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root
    -o Acquire::Retries=3)
  apt-get "${opts[@]}" update
  (cd "$src" && apt-get "${opts[@]}" source busybox)
  tree=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n1)
  [[ -n $tree ]] || {
    echo "apt-get source busybox gave no source tree" >&2
    return 1
  }
  make -C "$tree" defconfig >/dev/null
  sed -i -e 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' \
    -e 's/^CONFIG_LAST_ID=.*/CONFIG_LAST_ID=256000/' \
    -e 's/^CONFIG_TC=y$/# CONFIG_TC is not set/' "$tree/.config"
  grep -q '^CONFIG_LAST_ID=' "$tree/.config" || echo 'CONFIG_LAST_ID=256000' >>"$tree/.config"
  # (yes dies of SIGPIPE once oldconfig is done: not an error)
  { yes '' || true; } | make -C "$tree" oldconfig >/dev/null
  grep -qx 'CONFIG_STATIC=y' "$tree/.config"
  grep -qx 'CONFIG_LAST_ID=256000' "$tree/.config"
  make -C "$tree" -j"$(nproc)" busybox >"$BB_DIR/make.log" 2>&1 || {
    tail -40 "$BB_DIR/make.log" >&2
    return 1
  }
  busybox_ok "$tree/busybox"
  if ! file -b "$tree/busybox" 2>/dev/null | grep -q 'statically linked' &&
    ldd "$tree/busybox" >/dev/null 2>&1; then
    echo "busybox is not static" >&2
    return 1
  fi
  cp "$tree/.config" "$BB_DIR/busybox.config"
  install -m 755 "$tree/busybox" "$BB_BIN.tmp"
  mv "$BB_BIN.tmp" "$BB_BIN"
  safe_rm "$src"
  safe_rm "$apt"
  echo "compiled $("$BB_BIN" | head -n1)"
}

make_alpine() {
  compile_busybox
  local r="$ROOTFS/alpine" p
  safe_rm "$r"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,home,root,tmp,lib,dev,proc,sys,run,mnt,media,opt,srv} \
    "$r"/var/{empty,tmp,log,mail,spool/cron,lib,cache}
  install -m 755 "$BB_BIN" "$r/bin/busybox"
  "$BB_BIN" --list-full | while read -r p; do
    [[ $p == bin/busybox ]] && continue
    mkdir -p "$r/$(dirname "$p")"
    ln -sf /bin/busybox "$r/$p"
  done
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 700 "$r/root"
  # Alpine 3.19's own account files (alpine-baselayout)
  cat >"$r/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/mail:/sbin/nologin
news:x:9:13:news:/usr/lib/news:/sbin/nologin
uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin
cron:x:16:16:cron:/var/spool/cron:/sbin/nologin
ftp:x:21:21::/var/lib/ftp:/sbin/nologin
sshd:x:22:22:sshd:/dev/null:/sbin/nologin
games:x:35:35:games:/usr/games:/sbin/nologin
ntp:x:123:123:NTP:/var/empty:/sbin/nologin
guest:x:405:100:guest:/dev/null:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
PASSWD
  cat >"$r/etc/group" <<'GROUP'
root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin
adm:x:4:root,daemon
tty:x:5:
disk:x:6:root
lp:x:7:lp
kmem:x:9:
wheel:x:10:root
floppy:x:11:root
mail:x:12:mail
news:x:13:news
uucp:x:14:uucp
cron:x:16:cron
audio:x:18:
cdrom:x:19:
dialout:x:20:root
ftp:x:21:
sshd:x:22:
input:x:23:
tape:x:26:root
video:x:27:root
netdev:x:28:
kvm:x:34:
games:x:35:
shadow:x:42:
www-data:x:82:
users:x:100:games
ntp:x:123:
abuild:x:300:
utmp:x:406:
ping:x:999:
nogroup:x:65533:
nobody:x:65534:
GROUP
  cut -d: -f1 "$r/etc/passwd" | awk '{ print $1 (NR == 1 ? ":*::0:::::" : ":!::0:::::") }' >"$r/etc/shadow"
  chown 0:42 "$r/etc/shadow"
  chmod 640 "$r/etc/shadow"
  printf '/bin/sh\n/bin/ash\n' >"$r/etc/shells"
  printf '3.19.0\n' >"$r/etc/alpine-release"
  cat >"$r/etc/os-release" <<'OSREL'
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.0
PRETTY_NAME="Alpine Linux v3.19 (peak-fix stand-in: static busybox)"
OSREL
  import_rootfs "$r" "$T_ALPINE" alpine "ENV PATH=$STD_PATH" 'CMD ["/bin/sh"]'
  safe_rm "$r"
}

# runtime-deps:8.0-jammy-chiseled (dotnet/dotnet-docker src/runtime-deps/8.0/
# jammy-chiseled/amd64/Dockerfile): FROM scratch, /etc/passwd with root and
# app 1654, /home/app owned by 1654, ENV APP_UID=1654, USER $APP_UID; no shell.
make_chiseled() {
  local r="$ROOTFS/chiseled"
  safe_rm "$r"
  mkdir -p "$r/etc" "$r/home/app" "$r/tmp"
  chmod 1777 "$r/tmp"
  gcc -static -Os -s -o "$r/hello" "$HERE/hello.c"
  printf 'root:x:0:0:root:/root:/noshell\napp:x:1654:1654::/home/app:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\napp:x:1654:\n' >"$r/etc/group"
  chown 1654:1654 "$r/home/app"
  import_rootfs "$r" "$T_CHISELED" chiseled "ENV PATH=$STD_PATH" 'ENV APP_UID=1654' 'USER 1654' 'CMD ["/hello"]'
  safe_rm "$r"
}

make_distroless() {
  local r="$ROOTFS/distroless"
  safe_rm "$r"
  mkdir -p "$r"
  gcc -static -Os -s -o "$r/hello" "$HERE/hello.c"
  # one static binary, no /bin/sh, no /etc/passwd
  import_rootfs "$r" "$T_DISTROLESS" distroless "ENV PATH=$STD_PATH" 'CMD ["/hello"]'
  safe_rm "$r"
}

# ----------------------------------------------------------- server images --
# Servers made from Debian's own packages, with the facts of the official image
# whose name they carry. The .debs are downloaded on the host (apt-get download)
# and unpacked with dpkg-deb inside the build; no maintainer script runs.
SERVER_DEBS="$E2E_WORK/server-debs"

# fetch_debs DIR PKG... : the packages' .debs in DIR (kept between runs)
fetch_debs() {
  local dir="$1" p missing=()
  shift
  mkdir -p "$dir"
  for p in "$@"; do compgen -G "$dir/${p}_*.deb" >/dev/null || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  local apt=(apt-get -o APT::Sandbox::User=root -o Acquire::Retries=3)
  (cd "$dir" && "${apt[@]}" download "${missing[@]}") ||
    { "${apt[@]}" update -qq && (cd "$dir" && "${apt[@]}" download "${missing[@]}"); }
}

# server_context NAME PKG... : a build context with the .debs under debs/
server_context() {
  local name="$1" ctx p
  shift
  ctx="$E2E_WORK/ctx-$name"
  safe_rm "$ctx"
  mkdir -p "$ctx/debs"
  fetch_debs "$SERVER_DEBS" "$@" >&2
  for p in "$@"; do cp "$SERVER_DEBS/${p}"_*.deb "$ctx/debs/"; done
  printf '%s' "$ctx"
}

make_nginx() {
  local ctx
  ctx=$(server_context nginx nginx nginx-common libssl3)
  # nginx.org's /etc/nginx/nginx.conf, as the official image ships it, plus the
  # *_temp_path lines that nginx.org's build has compiled in (Debian's binary
  # would use /var/lib/nginx instead).
  cat >"$ctx/nginx.conf" <<'CONF'
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    # stand-in only: nginx.org's compiled-in defaults
    client_body_temp_path /var/cache/nginx/client_temp;
    proxy_temp_path       /var/cache/nginx/proxy_temp;
    fastcgi_temp_path     /var/cache/nginx/fastcgi_temp;
    uwsgi_temp_path       /var/cache/nginx/uwsgi_temp;
    scgi_temp_path        /var/cache/nginx/scgi_temp;

    include /etc/nginx/conf.d/*.conf;
}
CONF
  cat >"$ctx/default.conf" <<'CONF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
CONF
  # The official layout (nginxinc/docker-nginx mainline/debian/Dockerfile):
  # user and group nginx 101, /var/cache/nginx and /var/run root's, logs to
  # the container's stdout/stderr, CMD nginx -g 'daemon off;'. Left out: the
  # official /docker-entrypoint.sh, whose scripts only edit the configuration
  # (and skip what they cannot write), and curl (verify --serve falls back to
  # bash's /dev/tcp).
  printf '%s\nLABEL %s=%s %s.rev=%s\n' 'FROM '"$T_DEBIAN"'
COPY debs/ /tmp/debs/
RUN set -eu; \
    groupadd --system --gid 101 nginx; \
    useradd --system --gid nginx --no-create-home --home /nonexistent --comment "nginx user" --shell /bin/false --uid 101 nginx; \
    for d in /tmp/debs/*.deb; do dpkg-deb -x "$d" /tmp/root; done; \
    lib=$(dirname "$(readlink -f /lib/*-linux-gnu/libc.so.6)"); \
    cp /tmp/root/usr/lib/*-linux-gnu/libssl.so.3 /tmp/root/usr/lib/*-linux-gnu/libcrypto.so.3 "$lib/"; \
    install -m 755 /tmp/root/usr/sbin/nginx /usr/sbin/nginx; \
    mkdir -p /etc/nginx/conf.d /var/cache/nginx /var/log/nginx /usr/share/nginx/html; \
    cp /tmp/root/etc/nginx/mime.types /tmp/root/etc/nginx/fastcgi_params /tmp/root/etc/nginx/scgi_params /tmp/root/etc/nginx/uwsgi_params /etc/nginx/; \
    cp /tmp/root/usr/share/nginx/html/index.html /usr/share/nginx/html/; \
    ln -sf /dev/stdout /var/log/nginx/access.log; \
    ln -sf /dev/stderr /var/log/nginx/error.log; \
    rm -rf /tmp/debs /tmp/root
COPY nginx.conf /etc/nginx/nginx.conf
COPY default.conf /etc/nginx/conf.d/default.conf
RUN nginx -t && rm -rf /var/cache/nginx/* /var/run/nginx.pid
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]' "$LABEL" nginx "$LABEL" "$REV" >"$ctx/Dockerfile"
  docker build --network=none --force-rm -q -t "$T_NGINX" "$ctx" >/dev/null
  safe_rm "$ctx"
}

make_redis() {
  local ctx
  ctx=$(server_context redis redis-tools libjemalloc2 liblzf1 libatomic1 libssl3 gosu)
  # The official entrypoint (docker-library/redis docker-entrypoint.sh): as
  # root it gives the working directory to redis and steps down with gosu;
  # started as another user it runs the server as that user.
  cat >"$ctx/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e

# first arg is `-f` or `--some-option`
# or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' -a "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

exec "$@"
SH
  # The official layout (docker-library/redis 7.2/debian/Dockerfile): user and
  # group redis 999, /data owned by redis, WORKDIR and VOLUME /data.
  printf '%s\nLABEL %s=%s %s.rev=%s\n' 'FROM '"$T_DEBIAN"'
COPY debs/ /tmp/debs/
RUN set -eu; \
    groupadd -r -g 999 redis && useradd -r -g redis -u 999 redis; \
    for d in /tmp/debs/*.deb; do dpkg-deb -x "$d" /tmp/root; done; \
    lib=$(dirname "$(readlink -f /lib/*-linux-gnu/libc.so.6)"); \
    cp -a /tmp/root/usr/lib/*-linux-gnu/lib*.so* "$lib/"; \
    install -m 755 /tmp/root/usr/bin/redis-check-rdb /usr/local/bin/redis-server; \
    install -m 755 /tmp/root/usr/bin/redis-cli /usr/local/bin/redis-cli; \
    install -m 755 /tmp/root/usr/sbin/gosu /usr/local/bin/gosu; \
    rm -rf /tmp/debs /tmp/root; \
    redis-server --version; \
    mkdir /data && chown redis:redis /data
VOLUME /data
WORKDIR /data
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]' "$LABEL" redis "$LABEL" "$REV" >"$ctx/Dockerfile"
  chmod 755 "$ctx/docker-entrypoint.sh"
  docker build --network=none --force-rm -q -t "$T_REDIS" "$ctx" >/dev/null
  safe_rm "$ctx"
}

# --------------------------------------------------------------------- main --
if [[ ${1:-} == --rebuild ]]; then
  for t in "$T_DEBIAN" "$T_BULLSEYE" "$T_NODE" "$T_PYTHON" "$T_PYTHON_ALIAS" "$T_ALPINE" "$T_BITNAMI" "$T_DISTROLESS" \
    "$T_MINIDEB" "$T_MEMCACHED" "$T_UBI_MINIMAL" "$T_CHISELED" "$T_NODE_ALPINE" "$T_POWERSHELL" "$T_NGINX" "$T_REDIS" "$T_CENTOS" "$T_PY_MINIMAL" "$T_RUNTIME" "$T_JUPYTER"; do
    if [[ -n $(image_label "$t" "$LABEL") && $(image_label "$t" "$LABEL") != '<no value>' ]]; then
      docker image rm "$t" >/dev/null 2>&1 || true
    fi
  done
fi

if ! docker info >/dev/null 2>&1; then
  e2e_log "no Docker engine answers: run scripts/e2e/engine.sh first"
  exit 1
fi

# One images.sh at a time (two test runs starting together).
exec 9>"$E2E_WORK/images.lock"
flock -w 900 9

T0=$(e2e_now)
declare -A WANT=()
needs_build "$T_DEBIAN" && WANT[debian]=1
needs_build "$T_BULLSEYE" && WANT[bullseye]=1
needs_build "$T_NODE" && WANT[node]=1
needs_build "$T_PYTHON" && WANT[python]=1
needs_build "$T_ALPINE" && WANT[alpine]=1
needs_build "$T_BITNAMI" && WANT[bitnami]=1
needs_build "$T_DISTROLESS" && WANT[distroless]=1
needs_build "$T_MINIDEB" && WANT[minideb]=1
needs_build "$T_MEMCACHED" && WANT[memcached]=1
needs_build "$T_UBI_MINIMAL" && WANT[ubi_minimal]=1
needs_build "$T_CHISELED" && WANT[chiseled]=1
needs_build "$T_NODE_ALPINE" && WANT[node_alpine]=1
needs_build "$T_POWERSHELL" && WANT[powershell]=1
needs_build "$T_NGINX" && WANT[nginx]=1
needs_build "$T_REDIS" && WANT[redis]=1
needs_build "$T_CENTOS" && WANT[centos]=1
needs_build "$T_PY_MINIMAL" && WANT[py_minimal]=1
needs_build "$T_RUNTIME" && WANT[runtime]=1
needs_build "$T_JUPYTER" && WANT[jupyter]=1

if ((${#WANT[@]} == 0)); then
  e2e_log "all stand-in images present ($(e2e_since "$T0") s)"
else
  e2e_log "building: ${!WANT[*]}"
  need_pkgs=()
  [[ -n ${WANT[debian]:-}${WANT[bullseye]:-}${WANT[python]:-} ]] && need_pkgs+=(debootstrap debian-archive-keyring)
  [[ -n ${WANT[alpine]:-} ]] && ! busybox_ok "$BB_BIN" && need_pkgs+=(build-essential dpkg-dev xz-utils)
  [[ -n ${WANT[distroless]:-}${WANT[chiseled]:-} ]] && need_pkgs+=(build-essential)
  ((${#need_pkgs[@]} == 0)) || e2e_ensure_packages "${need_pkgs[@]}"

  # job NAME FUNCTION... : run the functions in order, in the background
  declare -A PIDS=()
  job() {
    local name="$1"
    shift
    (
      local s f
      for f in "$@"; do
        s=$(e2e_now)
        "$f"
        printf '%s: %s s\n' "$f" "$(e2e_since "$s")" >>"$LOGS/timings"
      done
    ) >"$LOGS/$name.log" 2>&1 &
    PIDS[$name]=$!
  }
  : >"$LOGS/timings"

  # Independent chains run in parallel; FROM-built images follow their base.
  debian_chain=()
  [[ -n ${WANT[debian]:-} ]] && debian_chain+=(make_debian)
  [[ -n ${WANT[node]:-} ]] && debian_chain+=(make_node)
  [[ -n ${WANT[minideb]:-} ]] && debian_chain+=(make_minideb)
  [[ -n ${WANT[memcached]:-} ]] && debian_chain+=(make_memcached)
  [[ -n ${WANT[ubi_minimal]:-} ]] && debian_chain+=(make_ubi_minimal)
  [[ -n ${WANT[powershell]:-} ]] && debian_chain+=(make_powershell)
  [[ -n ${WANT[nginx]:-} ]] && debian_chain+=(make_nginx)
  [[ -n ${WANT[redis]:-} ]] && debian_chain+=(make_redis)
  [[ -n ${WANT[centos]:-} ]] && debian_chain+=(make_centos)
  [[ -n ${WANT[runtime]:-} ]] && debian_chain+=(make_runtime)
  [[ -n ${WANT[jupyter]:-} ]] && debian_chain+=(make_jupyter)
  ((${#debian_chain[@]} == 0)) || job debian "${debian_chain[@]}"
  python_chain=()
  [[ -n ${WANT[python]:-} ]] && python_chain+=(make_python)
  [[ -n ${WANT[bitnami]:-} ]] && python_chain+=(make_bitnami)
  [[ -n ${WANT[py_minimal]:-} ]] && python_chain+=(make_py_minimal)
  ((${#python_chain[@]} == 0)) || job python "${python_chain[@]}"
  [[ -z ${WANT[bullseye]:-} ]] || job bullseye make_bullseye
  alpine_chain=()
  [[ -n ${WANT[alpine]:-} ]] && alpine_chain+=(make_alpine)
  [[ -n ${WANT[node_alpine]:-} ]] && alpine_chain+=(make_node_alpine)
  ((${#alpine_chain[@]} == 0)) || job alpine "${alpine_chain[@]}"
  [[ -z ${WANT[chiseled]:-} ]] || job chiseled make_chiseled
  [[ -z ${WANT[distroless]:-} ]] || job distroless make_distroless

  failed=()
  for name in "${!PIDS[@]}"; do
    if ! wait "${PIDS[$name]}"; then failed+=("$name"); fi
  done
  sed 's/^/[e2e\/images]   /' "$LOGS/timings" >&2
  if ((${#failed[@]})); then
    for name in "${failed[@]}"; do
      e2e_log "FAILED: $name (log: $LOGS/$name.log); last lines:"
      tail -25 "$LOGS/$name.log" >&2
    done
    exit 1
  fi
  e2e_log "built in $(e2e_since "$T0") s"
fi

# python:3.11-slim is the same image as python:3.11-slim-bookworm; never
# retag over an image that is not a stand-in.
if ! image_exists "$T_PYTHON_ALIAS"; then
  docker tag "$T_PYTHON" "$T_PYTHON_ALIAS"
elif [[ $(image_label "$T_PYTHON_ALIAS" "$LABEL") == python &&
  $(docker image inspect -f '{{.Id}}' "$T_PYTHON_ALIAS") != $(docker image inspect -f '{{.Id}}' "$T_PYTHON") ]]; then
  docker tag "$T_PYTHON" "$T_PYTHON_ALIAS"
fi

for t in "$T_DEBIAN" "$T_BULLSEYE" "$T_NODE" "$T_PYTHON" "$T_PYTHON_ALIAS" "$T_ALPINE" "$T_BITNAMI" "$T_DISTROLESS" \
  "$T_MINIDEB" "$T_MEMCACHED" "$T_UBI_MINIMAL" "$T_CHISELED" "$T_NODE_ALPINE" "$T_POWERSHELL" "$T_NGINX" "$T_REDIS" "$T_CENTOS" "$T_PY_MINIMAL" "$T_RUNTIME" "$T_JUPYTER"; do
  printf '[e2e/images]   %-36s %-11s %s MB\n' "$t" "$(image_label "$t" "$LABEL" | sed 's/^<no value>$/(real image)/; s/^$/(real image)/')" \
    "$(docker image inspect -f '{{.Size}}' "$t" | awk '{ printf "%.1f", $1 / 1e6 }')" >&2
done
