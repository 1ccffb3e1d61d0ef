// Package image assembles a bootable device image for one board support
// package (BSP): a Debian kernel fetched with apt-get and checked by sha256,
// and a u-root initramfs built with github.com/u-root/mkuimage that holds one
// busybox-mode Go binary (u-root's init, the device init and the design's
// commands), the kernel modules the drivers need, the design's files and the
// merged settings file.
//
// Build writes, atomically and byte-for-byte reproducibly:
//
//	vmlinuz              the kernel from the BSP's Debian package
//	initramfs.cpio.<c>   the compressed initramfs (c is gz, xz or zst)
//	manifest.json        every file in the image: path, size, sha256, feature
//	size.json, size.svg  size per feature and kernel module, with a chart
//	sbom.cdx.json        CycloneDX SBOM: Go modules and the kernel package
//
// The BSP's size budget is checked before anything is written to the output
// folder. SizeReport and SizeDiff read finished output folders.
//
// Each selected feature id becomes a Go build tag (SYSGEN_AUDIO_HDA ->
// sysgen_audio_hda), so a design without a feature links none of its code:
// the device init (image/deviceinit, linked to /bin/uinit) links the network
// driver only with sysgen_ethernet and the audio driver only with
// sysgen_audio_hda. The package image/qemu boots a finished folder.
//
// Kernels come only from apt-get download of the pinned package into
// CacheDir(), checked against the spec's sha256, and are unpacked there
// with dpkg-deb. Kernel modules are stored uncompressed at
// /lib/modules/<release>/ with a generated modules.dep, modules.alias and
// modules.softdep (the device loader reads those, never the modules).
package image
