#!/bin/sh
# provisioner/image-build.sh: make a bootable Debian qcow2 from an apt mirror,
# without loop mounts (run by the provisioner's image module, which caches the
# result under a digest of this script, the suite and the mirror).
#
#   image-build.sh SUITE MIRROR OUT.qcow2 WORKDIR [golden]
#
# Every image leaves mmdebstrap as a new instance: no SSH host keys, no
# cloud-init state, no logs, an empty /etc/machine-id (mmdebstrap's cleanup).
#
# With "golden", the image is the golden layer: the same system plus Docker
# Engine, its CLI, buildx and compose v2 from the mirror (docker.io,
# docker-cli, docker-buildx, docker-compose), installed here at native speed
# instead of in the emulated guest.  docker.service and docker.socket are left
# disabled: the guest agent's docker step starts them, after cloud-init has
# mounted the VM's Docker disk on /var/lib/docker.
#
# 1. mmdebstrap installs a small system (kernel, systemd, sshd, cloud-init,
#    qemu-guest-agent, ...) into WORKDIR/rootfs; hooks configure
#    systemd-networkd DHCP, resolved without LLMNR/mDNS, fstab and GRUB.
#    fstab is written before the packages, so the initramfs gets fsck and
#    the root filesystem is checked at boot (mounted ro, then remounted rw).
# 2. A raw disk: an MBR partition table (sfdisk), the root filesystem made
#    straight into the partition's bytes (mkfs.ext4 -d -E offset=), GRUB's
#    boot.img in the MBR and a core image (grub-mkimage) behind it.
# 3. qemu-img converts it to OUT.qcow2 (written as OUT.qcow2.tmp, then renamed).
#
# Lines starting with "@@ " on stdout are progress for the caller; everything
# else is log.  http_proxy in the environment is used for the mirror.  Needs
# root (mmdebstrap's root mode, file ownership in the image).
set -eu

[ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: $0 SUITE MIRROR OUT.qcow2 WORKDIR [golden]" >&2; exit 2; }
suite=$1 mirror=$2 out=$3 work=$4 variant=${5:-plain}
case $variant in plain | golden) ;; *) echo "image-build: unknown variant $variant" >&2; exit 2 ;; esac

# The image's packages.  make, curl, libcurl and ca-certificates are what the
# guest agent needs; cloud-guest-utils (growpart) lets cloud-init grow the root
# partition to the VM's disk size.
PACKAGES="linux-image-cloud-amd64 initramfs-tools systemd-sysv systemd-resolved
udev dbus openssh-server cloud-init cloud-guest-utils fdisk sudo ca-certificates
curl libcurl4t64 make iproute2 netbase kmod e2fsprogs qemu-guest-agent"
# The golden layer's additions (trixie splits the CLI and buildx out of
# docker.io; compose v2 is the docker-compose package).
DOCKER_PACKAGES="docker.io docker-cli docker-buildx docker-compose"
[ "$variant" = plain ] || PACKAGES="$PACKAGES $DOCKER_PACKAGES"
# Docker stays off at boot in the golden layer (see the top).
GOLDEN_HOOK=true
# shellcheck disable=SC2016 # $1 is the hook's rootfs, expanded by mmdebstrap's sh
[ "$variant" = plain ] || GOLDEN_HOOK='chroot "$1" systemctl disable docker.service docker.socket'

DISK_MIB=4096     # virtual size; cloud-init grows the partition to vm.disk
PART_START_MIB=1  # the partition starts at 1 MiB; GRUB's core image sits before it
GRUB_DIR=/usr/lib/grub/i386-pc
GRUB_MODULES="biosdisk part_msdos ext2 normal linux search search_label serial
terminal configfile echo test gzio"

step() { echo "@@ $*"; }
die() { echo "image-build: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "building an image needs root (mmdebstrap root mode): run it as root once; the image is cached"
for tool in mmdebstrap mkfs.ext4 sfdisk grub-mkimage qemu-img; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool not found: install mmdebstrap e2fsprogs fdisk grub-pc-bin qemu-utils (make deps)"
done
[ -f "$GRUB_DIR/boot.img" ] || die "$GRUB_DIR/boot.img not found: install grub-pc-bin"

rootfs=$work/rootfs
disk=$work/disk.raw
rm -rf "$rootfs" "$disk"
mkdir -p "$work"

step "mmdebstrap $suite from $mirror ($variant)"
# Hooks run on the host with the rootfs as $1.  They are single-quoted on
# purpose: mmdebstrap runs them with sh, where "$1" is the rootfs.  The
# package list is split into words on purpose (one line, comma-separated).
# shellcheck disable=SC2016,SC2086
mmdebstrap --mode=root --variant=apt --components=main \
	--include="$(echo $PACKAGES | tr ' ' ,)" \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--setup-hook='mkdir -p "$1/etc" && printf "LABEL=root / ext4 errors=remount-ro 0 1\n" > "$1/etc/fstab"' \
	--customize-hook='mkdir -p "$1/etc/systemd/network" "$1/etc/systemd/resolved.conf.d" "$1/etc/cloud/cloud.cfg.d" "$1/boot/grub"' \
	--customize-hook='printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n" > "$1/etc/systemd/network/20-dhcp.network"' \
	--customize-hook='printf "[Resolve]\nLLMNR=no\nMulticastDNS=no\n" > "$1/etc/systemd/resolved.conf.d/inception.conf"' \
	--customize-hook='ln -sf ../run/systemd/resolve/stub-resolv.conf "$1/etc/resolv.conf"' \
	--customize-hook='chroot "$1" systemctl enable systemd-networkd systemd-resolved' \
	--customize-hook='printf "datasource_list: [ NoCloud, None ]\n" > "$1/etc/cloud/cloud.cfg.d/90-inception.cfg"' \
	--customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
	--customize-hook="$GOLDEN_HOOK" \
	--customize-hook='rm -rf "$1"/var/lib/cloud/* "$1"/var/log/*.log "$1"/var/log/journal/*'  \
	--customize-hook='printf "localhost\n" > "$1/etc/hostname"' \
	--customize-hook='cd "$1" && for f in vmlinuz initrd.img; do [ -e "$f" ] || ln -sf "$(ls boot/$f-* | sort -V | tail -n 1)" "$f"; done' \
	--customize-hook='printf "serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\nset timeout=1\nmenuentry Debian {\n  search --no-floppy --label root --set=root\n  linux /vmlinuz root=LABEL=root ro console=tty0 console=ttyS0,115200\n  initrd /initrd.img\n}\n" > "$1/boot/grub/grub.cfg"' \
	"$suite" "$rootfs" "$mirror"

for f in vmlinuz initrd.img; do
	[ -e "$rootfs/$f" ] || die "no kernel or initrd in the rootfs"
done
# The package list, next to the image (OUT.packages): what a lab's LAB.lock
# records of it, one PACKAGE=VERSION a line, sorted.
# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
chroot "$rootfs" dpkg-query -W -f '${Package}=${Version}\n' | LC_ALL=C sort >"$out.packages.tmp" ||
	die "dpkg-query in the rootfs failed"
step "rootfs $(du -sm "$rootfs" | cut -f1) MiB"

step "disk: partition table, ext4 from the rootfs, GRUB"
truncate -s "${DISK_MIB}M" "$disk"
printf 'label: dos\nstart=%dMiB, type=83, bootable\n' "$PART_START_MIB" | sfdisk --quiet "$disk"
mkfs.ext4 -q -F -L root -d "$rootfs" \
	-E "offset=$((PART_START_MIB * 1048576)),root_owner=0:0" \
	"$disk" "$((DISK_MIB - PART_START_MIB))M"

# shellcheck disable=SC2016 # $root is GRUB's variable, not the shell's
printf 'search --no-floppy --label root --set=root\nset prefix=($root)/boot/grub\n' > "$work/early.cfg"
# shellcheck disable=SC2086
grub-mkimage -O i386-pc -d "$GRUB_DIR" -c "$work/early.cfg" -p /boot/grub \
	-o "$work/core.img" $GRUB_MODULES
core_sectors=$(( ($(stat -c %s "$work/core.img") + 511) / 512 ))
[ "$core_sectors" -lt $((PART_START_MIB * 2048 - 1)) ] || die "GRUB core image too big ($core_sectors sectors)"
# MBR: boot code only (the first 440 bytes), the partition table stays.
dd if="$GRUB_DIR/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none

step "qcow2"
qemu-img convert -f raw -O qcow2 "$disk" "$out.tmp"
mv "$out.packages.tmp" "$out.packages"
mv "$out.tmp" "$out"
rm -rf "$rootfs" "$disk"
step "done $(du -m "$out" | cut -f1) MiB"
