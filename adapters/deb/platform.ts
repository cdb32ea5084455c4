import { UserError } from '../../src/errors.js';

/** Debian architecture names → OCI platform (GOARCH names and ARM variants). */
const PLATFORMS: Record<string, { architecture: string; variant?: string }> = {
  amd64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64', variant: 'v8' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v5' },
  i386: { architecture: '386' },
  ppc64el: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  mips64el: { architecture: 'mips64le' },
  riscv64: { architecture: 'riscv64' },
};

export function debPlatform(arch: string): { architecture: string; variant?: string } {
  const p = PLATFORMS[arch];
  if (!p) throw new UserError(`image.architectures: "${arch}" is not a Debian architecture layerpkg knows (${Object.keys(PLATFORMS).join(', ')})`);
  return p;
}
