# tests/lib/image.sh: the base image the VM tiers boot, shared between tiers.
#
# The image tier builds it (`inception image build`, Debian trixie from the
# mirror) into TEST_IMAGE_CACHE; later tiers point INCEPTION_IMAGE_CACHE there
# and get the same cached file without building again (the cache key is the
# suite, the mirror and image-build.sh's content).
# shellcheck shell=sh

: "${TEST_IMAGE_CACHE:=${INCEPTION_TEST_IMAGE_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/build/image-cache}}"

# test_image_path INCEPTION_BINARY: prints the built image's path (building it
# when the cache does not hold it yet); returns non-zero on failure.
test_image_path() {
	_out=$(INCEPTION_IMAGE_CACHE=$TEST_IMAGE_CACHE "$1" --json image build 2>&1) || {
		printf '%s\n' "$_out" | tail -n 5 >&2
		return 1
	}
	printf '%s\n' "$_out" | sed -n 's/^{"image":"\(.*\)"}$/\1/p' | tail -n 1
}
