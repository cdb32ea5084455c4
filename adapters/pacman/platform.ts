import { UserError } from '../../src/errors.js';

/** pacman architecture names → OCI platform. Arch Linux is x86_64; Arch Linux ARM and others add the rest. */
const PLATFORMS: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  aarch64: { architecture: 'arm64', variant: 'v8' },
  armv7h: { architecture: 'arm', variant: 'v7' },
  i686: { architecture: '386' },
  riscv64: { architecture: 'riscv64' },
};

export function pacmanPlatform(arch: string): { architecture: string; variant?: string } {
  const p = PLATFORMS[arch];
  if (!p) {
    throw new UserError(
      `image.architectures: "${arch}" is not a pacman architecture (${Object.keys(PLATFORMS).join(', ')}); pacman names them as Arch does, e.g. x86_64 rather than amd64`,
    );
  }
  return p;
}
