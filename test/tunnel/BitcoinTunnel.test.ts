import { expect } from "chai";
import { ethers, artifacts } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { Interface } from "ethers";
import { depositTx } from "../helpers/tunnelChain";
import { deposit, loadTunnel, type TunnelFixture } from "../helpers/tunnelFixture";
import { deployTunnel } from "../../relayer/src/evm/tunnelDeploy";

/** The deployable pieces of the tunnel, each under the EIP-170 limit with room to grow. */
const DEPLOYABLES = [
  "BitcoinTunnel",
  "TunnelVaults",
  "TunnelDeposits",
  "TunnelWithdrawals",
  "TunnelLiquidation",
  "HemiBTC",
] as const;
const MODULES = ["TunnelVaults", "TunnelDeposits", "TunnelWithdrawals", "TunnelLiquidation"] as const;
const LIMIT = 24_576;

describe("BitcoinTunnel", function () {
  let f: TunnelFixture;
  beforeEach(async function () {
    f = await loadTunnel();
  });

  it("every deployable piece is at most 20 KB (the limit is 24 KB)", async function () {
    for (const name of DEPLOYABLES) {
      const a = await artifacts.readArtifact(name);
      const size = (a.deployedBytecode.length - 2) / 2;
      expect(size, name).to.be.greaterThan(0);
      expect(size, `${name}: ${size} bytes`).to.be.at.most(20_480);
      expect(size).to.be.lessThan(LIMIT);
    }
  });

  it("its ABI has every error its modules can revert with, so that every revert decodes to a name", async function () {
    const tunnelAbi = (await artifacts.readArtifact("BitcoinTunnel")).abi;
    const tunnelErrors = new Interface(tunnelAbi);
    for (const m of MODULES) {
      const lib = new Interface((await artifacts.readArtifact(m)).abi);
      lib.forEachError((e) => {
        expect(tunnelErrors.getError(e.selector)?.format(), `${m}.${e.name}`).to.equal(e.format());
      });
      lib.forEachEvent((e) => {
        expect(tunnelErrors.getEvent(e.topicHash)?.format(), `${m}.${e.name}`).to.equal(e.format());
      });
    }
    // The revert the audit saw raw: a withdrawal to an unsupported script.
    const { tunnel, user, custody } = f;
    await deposit(f, depositTx(custody, 100_000n, user.address));
    const bad = "0x6a0401020304";
    const err = await tunnel
      .connect(user)
      ["requestWithdrawal(bytes,uint64)"].staticCall(bad, 50_000n)
      .then(() => undefined)
      .catch((e: unknown) => e as { data?: string });
    const parsed = tunnel.interface.parseError(err?.data ?? "0x");
    expect(parsed?.name).to.equal("UnsupportedWithdrawalScript");
    expect(parsed?.args[0]).to.equal(bad);
  });

  it("is deployed with its libraries linked; the constructor refuses a zero address", async function () {
    const { deployed, tunnel, admin } = f;
    for (const m of MODULES) {
      expect(await ethers.provider.getCode(deployed[m])).to.not.equal("0x");
    }
    expect(await tunnel.lightClient()).to.equal(await f.client.getAddress());
    await expect(
      deployTunnel({
        signer: admin,
        lightClient: ethers.ZeroAddress,
        admin: admin.address,
        collateralToken: deployed.CollateralToken,
      }),
    ).to.be.revertedWithCustomError(tunnel, "ZeroAddress");
  });

  describe("HemiBTC", function () {
    it("has 8 decimals, is deployed by the tunnel, and only the tunnel mints and burns", async function () {
      const { token, tunnel, admin, user } = f;
      expect(await token.decimals()).to.equal(8n);
      expect(await token.symbol()).to.equal("hemiBTC");
      expect(await token.tunnel()).to.equal(await tunnel.getAddress());
      await expect(token.connect(admin).mint(user.address, 1))
        .to.be.revertedWithCustomError(token, "NotTunnel")
        .withArgs(admin.address);
      await expect(token.connect(admin).burn(user.address, 1)).to.be.revertedWithCustomError(token, "NotTunnel");
    });

    it("supports ERC-2612 permit", async function () {
      const { token, user, stranger, custody } = f;
      await deposit(f, depositTx(custody, 100_000n, user.address));
      const deadline = (await time.latest()) + 3600;
      const domain = {
        name: "Hemi Bitcoin",
        version: "1",
        chainId: (await ethers.provider.getNetwork()).chainId,
        verifyingContract: await token.getAddress(),
      };
      const types = {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const value = { owner: user.address, spender: stranger.address, value: 5_000n, nonce: 0n, deadline };
      const sig = ethers.Signature.from(await user.signTypedData(domain, types, value));
      await token.connect(stranger).permit(user.address, stranger.address, 5_000n, deadline, sig.v, sig.r, sig.s);
      expect(await token.allowance(user.address, stranger.address)).to.equal(5_000n);
    });
  });
});
