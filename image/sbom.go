package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// makeSBOM renders the CycloneDX SBOM: the kernel package and every Go module
// linked into the busybox binary (go list -deps with the image's GOARCH and
// build tags; gobusybox's binary carries no module list), with licences
// read from each module's LICENSE file. It has no timestamp, and its serial number is
// derived from the image content, so it is reproducible.
func makeSBOM(ctx context.Context, spec Spec, man *Manifest, pkgs []goPackage, modDir string) ([]byte, error) {
	mods := goModules(pkgs)
	goVersion := strings.TrimPrefix(goEnv(ctx, modDir, "GOVERSION"), "go")

	bom := cdx.NewBOM()
	h := sha256Hex([]byte(man.InitramfsSHA256 + man.Kernel.SHA256))
	bom.SerialNumber = fmt.Sprintf("urn:uuid:%s-%s-5%s-8%s-%s", h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])
	imgName := "sysgen-image-" + spec.BSP
	bom.Metadata = &cdx.Metadata{
		Component: &cdx.Component{
			BOMRef: "image", Type: cdx.ComponentTypeFirmware, Name: imgName,
			Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: man.InitramfsSHA256}},
			Properties: &[]cdx.Property{{Name: "sysgen:features", Value: strings.Join(man.Features, ",")}},
		},
	}
	kpurl := fmt.Sprintf("pkg:deb/debian/%s@%s?arch=%s", man.Kernel.Package, man.Kernel.Version, man.Kernel.Arch)
	comps := []cdx.Component{{
		BOMRef: kpurl, Type: cdx.ComponentTypeOS, Name: man.Kernel.Package, Version: man.Kernel.Version,
		Supplier:   &cdx.OrganizationalEntity{Name: "Debian"},
		PackageURL: kpurl,
		Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: man.Kernel.DebSHA}},
		Licenses:   &cdx.Licenses{{License: &cdx.License{ID: man.Kernel.License}}},
	}}
	comps = append(comps, cdx.Component{
		BOMRef: "pkg:golang/stdlib@" + goVersion, Type: cdx.ComponentTypeLibrary, Name: "stdlib", Version: goVersion,
		PackageURL: "pkg:golang/stdlib@" + goVersion, Licenses: &cdx.Licenses{{License: &cdx.License{ID: "BSD-3-Clause"}}},
	})
	for _, m := range mods {
		purl := "pkg:golang/" + m.Path
		if m.Version != "" {
			purl += "@" + m.Version
		}
		c := cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: m.Path, Version: m.Version, PackageURL: purl}
		if m.Version == "" {
			c.Version = "(devel)"
		}
		if lic := detectLicense(m.Dir); lic != "" {
			c.Licenses = &cdx.Licenses{{License: &cdx.License{ID: lic}}}
		} else {
			c.Licenses = &cdx.Licenses{{License: &cdx.License{Name: "NOASSERTION"}}}
		}
		comps = append(comps, c)
	}
	sort.SliceStable(comps[2:], func(i, j int) bool { return comps[2+i].Name < comps[2+j].Name })
	if d := man.Disk; d != nil {
		// The disk image carries systemd-boot from the build host.
		lpurl := fmt.Sprintf("pkg:deb/debian/%s@%s?arch=%s", d.LoaderPackage, d.LoaderVersion, man.Kernel.Arch)
		comps = append(comps, cdx.Component{
			BOMRef: lpurl, Type: cdx.ComponentTypeApplication, Name: d.LoaderPackage, Version: d.LoaderVersion,
			Supplier: &cdx.OrganizationalEntity{Name: "Debian"}, PackageURL: lpurl,
			Hashes:   &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: d.LoaderSHA256}},
			Licenses: &cdx.Licenses{{License: &cdx.License{ID: "LGPL-2.1-or-later"}}},
			Properties: &[]cdx.Property{
				{Name: "sysgen:file", Value: "/EFI/BOOT/BOOTX64.EFI"},
				{Name: "sysgen:disk_image", Value: d.File},
				{Name: "sysgen:disk_sha256", Value: d.SHA256},
			},
		})
	}
	bom.Components = &comps
	deps := make([]string, len(comps))
	for i, c := range comps {
		deps[i] = c.BOMRef
	}
	bom.Dependencies = &[]cdx.Dependency{{Ref: "image", Dependencies: &deps}}
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true)
	if err := enc.Encode(bom); err != nil {
		return nil, fmt.Errorf("image: sbom: %w", err)
	}
	return buf.Bytes(), nil
}

// detectLicense names the SPDX licence of the LICENSE file in dir, or "".
func detectLicense(dir string) string {
	if dir == "" {
		return ""
	}
	for _, n := range []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING", "LICENCE", "license"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err == nil {
			return classifyLicense(string(b))
		}
	}
	return ""
}

// classifyLicense recognises the common open source licence texts. When a
// file holds several (a module with vendored parts), the first one wins.
func classifyLicense(t string) string {
	l := strings.ToLower(strings.Join(strings.Fields(t), " "))
	best, at := "", len(l)+1
	for _, m := range []struct{ marker, id string }{
		{"apache license", "Apache-2.0"},
		{"mozilla public license", "MPL-2.0"},
		{"permission is hereby granted, free of charge", "MIT"},
		{"permission to use, copy, modify, and/or distribute", "ISC"},
		{"permission to use, copy, modify, and distribute this software for any purpose", "ISC"},
		{"redistribution and use in source and binary forms", "BSD"},
		{"gnu lesser general public license", "LGPL-2.1-or-later"},
		{"gnu general public license", "GPL-2.0-only"},
		{"this is free and unencumbered software released into the public domain", "Unlicense"},
	} {
		if i := strings.Index(l, m.marker); i >= 0 && i < at {
			best, at = m.id, i
		}
	}
	if best == "BSD" {
		if strings.Contains(l, "used to endorse or promote") {
			return "BSD-3-Clause"
		}
		return "BSD-2-Clause"
	}
	return best
}

// goModule is one Go module linked into the image.
type goModule struct {
	Path, Version, Dir string
}

// goModules lists the modules providing pkgs, sorted by path.
func goModules(pkgs []goPackage) []goModule {
	seen := map[string]bool{}
	var mods []goModule
	for _, p := range pkgs {
		if p.Module == nil {
			continue
		}
		m := goModule{Path: p.Module.Path, Version: p.Module.Version, Dir: p.Module.Dir}
		if r := p.Module.Replace; r != nil {
			m = goModule{Path: r.Path, Version: r.Version, Dir: r.Dir}
		}
		if seen[m.Path] {
			continue
		}
		seen[m.Path] = true
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	return mods
}

// RecordSDCard adds the SD card image written into the image folder dir
// after the build (sysgen build --bsp rpi3) to the folder's manifest.json
// and SBOM: the manifest gets card (file, size, sha256, boot files), the
// SBOM a component for the GPU firmware package on the card, with the
// card's and each firmware file's hash. Both files are replaced
// atomically; recording the same card again replaces the entries. The
// manifest.json on the card itself is the one from before (it cannot hold
// its own card's hash).
func RecordSDCard(dir string, card *ManifestSDCard) error {
	if card == nil || card.File == "" || card.File != filepath.Base(card.File) {
		return fmt.Errorf("image: record SD card: want a plain file name in %s", dir)
	}
	man, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	man.SDCard = card
	mb, err := marshalJSON(man)
	if err != nil {
		return fmt.Errorf("image: manifest: %w", err)
	}
	sb, err := os.ReadFile(filepath.Join(dir, SBOMFile))
	if err != nil {
		return fmt.Errorf("image: %s has no SBOM (rebuild it with sysgen build): %w", dir, err)
	}
	bom := new(cdx.BOM)
	if err := cdx.NewBOMDecoder(bytes.NewReader(sb), cdx.BOMFileFormatJSON).Decode(bom); err != nil {
		return fmt.Errorf("image: %s: %w (rebuild the image)", filepath.Join(dir, SBOMFile), err)
	}
	addCardComponent(bom, man, card)
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).Encode(bom); err != nil {
		return fmt.Errorf("image: sbom: %w", err)
	}
	// The SBOM first: a manifest naming the card is only there once the
	// SBOM lists it too.
	if err := writeFileAtomic(filepath.Join(dir, SBOMFile), buf.Bytes()); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, ManifestFile), mb)
}

// addCardComponent puts the card's firmware component into bom, in place
// of an earlier one, and lists it among the image's dependencies.
func addCardComponent(bom *cdx.BOM, man *Manifest, card *ManifestSDCard) {
	version := card.FirmwareVersion
	purl := fmt.Sprintf("pkg:deb/debian/%s?arch=%s", card.FirmwarePackage, man.Kernel.Arch)
	if version != "" {
		purl = fmt.Sprintf("pkg:deb/debian/%s@%s?arch=%s", card.FirmwarePackage, version, man.Kernel.Arch)
	}
	props := []cdx.Property{
		{Name: "sysgen:sdcard_image", Value: card.File},
		{Name: "sysgen:sdcard_sha256", Value: card.SHA256},
		{Name: "sysgen:sdcard_size", Value: fmt.Sprint(card.Size)},
	}
	fw := map[string]bool{}
	for _, n := range card.FirmwareFiles {
		fw[n] = true
	}
	for _, f := range card.BootFiles {
		if fw[f.Name] {
			props = append(props, cdx.Property{Name: "sysgen:file:" + f.Name, Value: "sha256:" + f.SHA256})
		}
	}
	c := cdx.Component{
		BOMRef: "sdcard-firmware", Type: cdx.ComponentTypeFirmware, Name: card.FirmwarePackage, Version: version,
		Supplier: &cdx.OrganizationalEntity{Name: "Debian"}, PackageURL: purl,
		Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: card.SHA256}},
		// Debian's raspi-firmware: the Broadcom firmware licence (see
		// LICENCE.broadcom on the card).
		Licenses:   &cdx.Licenses{{License: &cdx.License{Name: "LicenseRef-Broadcom-raspi-firmware"}}},
		Properties: &props,
	}
	var comps []cdx.Component
	if bom.Components != nil {
		for _, o := range *bom.Components {
			if o.BOMRef != c.BOMRef {
				comps = append(comps, o)
			}
		}
	}
	comps = append(comps, c)
	bom.Components = &comps
	if bom.Dependencies != nil {
		for i, d := range *bom.Dependencies {
			if d.Ref != "image" || d.Dependencies == nil {
				continue
			}
			deps := *d.Dependencies
			if !slices.Contains(deps, c.BOMRef) {
				deps = append(deps, c.BOMRef)
			}
			(*bom.Dependencies)[i].Dependencies = &deps
		}
	}
}

// writeFileAtomic writes name by a rename from a temp file beside it.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("image: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("image: write %s: %w", name, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("image: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("image: %w", err)
	}
	return nil
}
