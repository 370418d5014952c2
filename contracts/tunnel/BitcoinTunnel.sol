// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";
import {HemiBTC} from "./HemiBTC.sol";
import {ITunnelErrors} from "./ITunnelErrors.sol";
import {ITunnelEvents} from "./ITunnelEvents.sol";
import {
    TunnelState,
    TunnelConfig,
    DepositRecord,
    OrderCursor,
    Vault,
    VaultBacking,
    VaultTerms,
    Withdrawal
} from "./TunnelState.sol";
import {TunnelDeposits} from "./modules/TunnelDeposits.sol";
import {TunnelGovernance} from "./modules/TunnelGovernance.sol";
import {TunnelLiquidation} from "./modules/TunnelLiquidation.sol";
import {TunnelRules} from "./modules/TunnelRules.sol";
import {TunnelVaults} from "./modules/TunnelVaults.sol";
import {TunnelWithdrawals} from "./modules/TunnelWithdrawals.sol";

/// @title BitcoinTunnel
/// @notice Lock BTC on Bitcoin, receive hemiBTC here; burn hemiBTC, receive BTC back. Deposits are minted on an SPV
///         proof against the BitcoinLightClient that anyone may submit, exactly once per (txid, vout); withdrawals
///         are paid by the vault operator on Bitcoin and proven the same way, or, when not proven by their
///         deadline, paid to the user from the vault's collateral.
/// @dev A thin contract over modules that share one state (`TunnelState`), as tBTC's Bridge is: TunnelVaults
///      (registry, terms, collateral), TunnelDeposits, TunnelWithdrawals (requests, payouts, challenges),
///      TunnelLiquidation (external libraries, linked at deploy) and TunnelGovernance (internal). This contract
///      holds the state, the roles and the pause, and forwards each call. Trust model:
///      - Collateral. Every satoshi of a vault's custody is backed by collateral in `collateralToken` (never
///        hemiBTC) worth `collateralRatioBps` of it at the governance price. A deposit is always minted (the BTC is
///        locked), but one that leaves the vault short stops it taking deposits sent later (blocks past the best
///        height + grace) until collateral is added. Collateral is released only above the requirement: as custody
///        drains. Below `liquidationThresholdBps`, or once slashed, anyone may liquidate: burn hemiBTC the vault
///        backs for its collateral at a bonus.
///      - Terms. A withdrawal is judged by the terms of its request (fee, confirmations, deadline); a withdrawal
///        fee raise takes effect `feeRaiseDelay` later, and a request may carry the most fee it accepts. Deposit
///        fees and the minimum only go down. A closing vault mints deposits in blocks up to the best height at the
///        close plus `depositGraceBlocks`.
///      - Governance (DEFAULT_ADMIN_ROLE) sets the collateral price and ratios, so holders trust it for the price.
contract BitcoinTunnel is AccessControl, ITunnelEvents, ITunnelErrors {
    /// @notice May pause and resume the tunnel and any vault.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Grants OPERATOR_ROLE and sets each vault's confirmations.
    bytes32 public constant VAULT_MANAGER_ROLE = keccak256("VAULT_MANAGER_ROLE");
    /// @notice May create vaults (administered by VAULT_MANAGER_ROLE).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Smallest payout a withdrawal may ask for (Bitcoin's common dust limit).
    uint64 public constant DUST_LIMIT = 546;

    /// @notice The light client that proves deposits and payouts.
    BitcoinLightClient public immutable lightClient;
    /// @notice The representation token, deployed by this contract.
    HemiBTC public immutable token;
    /// @notice The token vaults post as collateral (not hemiBTC).
    IERC20 public immutable collateralToken;

    TunnelState private _s;

    /// @notice Deploys the tunnel and its HemiBTC token with the default settings (see TunnelGovernance).
    /// @param lightClient_ The Bitcoin light client.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (settings, collateral price, role grants).
    /// @param collateralToken_ The ERC-20 vaults post as collateral.
    /// @param collateralPrice Satoshis per 1e18 units of the collateral token.
    constructor(BitcoinLightClient lightClient_, address admin, IERC20 collateralToken_, uint128 collateralPrice) {
        if (address(lightClient_) == address(0) || admin == address(0) || address(collateralToken_) == address(0)) {
            revert ZeroAddress();
        }
        lightClient = lightClient_;
        collateralToken = collateralToken_;
        token = new HemiBTC();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRoleAdmin(OPERATOR_ROLE, VAULT_MANAGER_ROLE);
        TunnelGovernance.initialize(_s, collateralPrice);
    }

    modifier whenNotPaused() {
        if (_s.cursor.paused) revert EnforcedPause();
        _;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Governance
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Sets the fee limits operators must respect (existing terms are not changed). DEFAULT_ADMIN_ROLE.
    /// @param maxFeeBps_ Largest rate in basis points (at most 5000).
    /// @param maxFlatFee_ Largest flat fee in satoshis (at most 21e14).
    function setFeeLimits(uint16 maxFeeBps_, uint64 maxFlatFee_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TunnelGovernance.setFeeLimits(_s, maxFeeBps_, maxFlatFee_);
    }

    /// @notice Sets the time operators have to get a payout proven (for new withdrawals). DEFAULT_ADMIN_ROLE.
    /// @param window Seconds, 1 hour to 30 days.
    function setWithdrawalWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TunnelGovernance.setWithdrawalWindow(_s, window);
    }

    /// @notice Sets how many Bitcoin blocks past the best height a closing or capped vault keeps minting deposits
    ///         (deposits already sent). DEFAULT_ADMIN_ROLE.
    /// @param blocks 1..2016.
    function setDepositGracePeriod(uint16 blocks) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TunnelGovernance.setDepositGracePeriod(_s, blocks);
    }

    /// @notice Sets the delay before a raised withdrawal fee takes effect. DEFAULT_ADMIN_ROLE.
    /// @param delay Seconds, 1 hour to 30 days.
    function setFeeRaiseDelay(uint32 delay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TunnelGovernance.setFeeRaiseDelay(_s, delay);
    }

    /// @notice Sets the collateral price. DEFAULT_ADMIN_ROLE.
    /// @param satsPerUnit Satoshis per 1e18 units of the collateral token (not 0).
    function setCollateralPrice(uint128 satsPerUnit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TunnelGovernance.setCollateralPrice(_s, satsPerUnit);
    }

    /// @notice Sets the collateral ratio, liquidation threshold and liquidation bonus. DEFAULT_ADMIN_ROLE.
    /// @param ratioBps Collateral worth per satoshi of custody (10000..50000).
    /// @param liquidationThresholdBps Below this ratio anyone may liquidate (10000..ratioBps).
    /// @param liquidationBonusBps Extra collateral a liquidator gets (at most 2000).
    function setCollateralRatios(
        uint16 ratioBps,
        uint16 liquidationThresholdBps,
        uint16 liquidationBonusBps
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TunnelGovernance.setCollateralRatios(_s, ratioBps, liquidationThresholdBps, liquidationBonusBps);
    }

    /// @notice Sets the Bitcoin confirmations a vault's deposits and new withdrawals need. VAULT_MANAGER_ROLE.
    /// @param vaultId The vault.
    /// @param confirmations 1..1000.
    function setVaultConfirmations(uint32 vaultId, uint16 confirmations) external onlyRole(VAULT_MANAGER_ROLE) {
        TunnelGovernance.setVaultConfirmations(_s, vaultId, confirmations);
    }

    /// @notice Stops deposits and withdrawal requests everywhere (finalization, challenges, liquidations stay open).
    ///         PAUSER_ROLE.
    function pause() external onlyRole(PAUSER_ROLE) {
        TunnelGovernance.setPaused(_s, true);
    }

    /// @notice Lifts the global pause. PAUSER_ROLE.
    function unpause() external onlyRole(PAUSER_ROLE) {
        TunnelGovernance.setPaused(_s, false);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Vaults and collateral
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Creates a Live vault operated by the caller. OPERATOR_ROLE.
    /// @param script The custody script deposits pay (P2WPKH, P2WSH, P2TR, P2PKH or P2SH), unique across vaults.
    /// @param terms Fees (within the governance limits) and minimum deposit.
    /// @return vaultId The new vault's id.
    function createVault(
        bytes calldata script,
        VaultTerms calldata terms
    ) external onlyRole(OPERATOR_ROLE) returns (uint32 vaultId) {
        return TunnelVaults.createVault(_s, script, terms);
    }

    /// @notice Changes a vault's fees and minimum deposit. Deposit fees and the minimum may only go down (deposits
    ///         already sent are minted under the terms at confirmation). A withdrawal fee cut applies at once; a raise
    ///         applies to withdrawals requested `feeRaiseDelay` seconds from now on. Vault operator only.
    /// @param vaultId The vault.
    /// @param terms The new terms.
    function setVaultTerms(uint32 vaultId, VaultTerms calldata terms) external {
        TunnelVaults.setVaultTerms(_s, vaultId, terms);
    }

    /// @notice Pauses a Live vault or resumes a Paused one. The operator or PAUSER_ROLE may pause; the operator may
    ///         resume unless PAUSER_ROLE paused it; PAUSER_ROLE may resume.
    /// @param vaultId The vault.
    /// @param pause_ True to pause, false to resume.
    function setVaultPaused(uint32 vaultId, bool pause_) external {
        TunnelVaults.setVaultPaused(_s, vaultId, pause_, hasRole(PAUSER_ROLE, msg.sender));
    }

    /// @notice Starts closing a Live or Paused vault (irreversible): it keeps serving withdrawals and mints deposits
    ///         in Bitcoin blocks up to the light client's best height plus the deposit grace period. Operator only.
    /// @param vaultId The vault.
    function closeVault(uint32 vaultId) external {
        TunnelVaults.closeVault(_s, lightClient, vaultId);
    }

    /// @notice Adds collateral to a vault, pulled from the caller with transferFrom (approve first). Anyone.
    /// @param vaultId The vault (not Slashed).
    /// @param amount Units of the collateral token.
    function addCollateral(uint32 vaultId, uint256 amount) external {
        TunnelVaults.addCollateral(_s, collateralToken, vaultId, amount);
    }

    /// @notice Returns collateral above what backs the vault's custody at the collateral ratio. Operator only.
    /// @param vaultId The vault (not Slashed).
    /// @param amount Units of the collateral token (at most `vaultBacking(vaultId).freeCollateral`).
    /// @param to Receives them.
    function withdrawCollateral(uint32 vaultId, uint256 amount, address to) external {
        TunnelVaults.withdrawCollateral(_s, collateralToken, vaultId, amount, to);
    }

    /// @notice Mints a vault's accrued deposit and withdrawal fees (not for a Slashed vault). Operator only.
    /// @param vaultId The vault.
    /// @param to Receives the hemiBTC.
    function claimFees(uint32 vaultId, address to) external {
        TunnelVaults.claimFees(_s, token, vaultId, to);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Deposits
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Mints a Bitcoin deposit. Anyone may call it once the deposit's block has the vault's confirmations.
    /// @dev Checks, in order: the output exists; exactly one OP_RETURN output, exactly 0x6a14 || recipient; the
    ///      output pays a custody script; the vault takes deposits from that block; the value is at least its minimum;
    ///      the SPV proof (light client `verifyTx` with the vault's confirmations); the (txid, vout) was never minted.
    /// @param proof SPV proof of the deposit transaction (non-witness serialization).
    /// @param outputIndex The vout paying the custody script.
    /// @return sequence The deposit's place in the tunnel's total order.
    function confirmDeposit(
        BitcoinLightClient.TxProof calldata proof,
        uint32 outputIndex
    ) external whenNotPaused returns (uint64 sequence) {
        return TunnelDeposits.confirmDeposit(_s, lightClient, token, proof, outputIndex);
    }

    /// @notice Mints several deposits of one Bitcoin block in one call, checking the block once. Items must be in
    ///         strictly increasing (txIndex, outputIndex) order; items already minted are skipped; any other failed
    ///         check reverts the batch. The block needs the largest confirmation count of the batch's vaults.
    /// @param blockHeader The block's raw 80-byte header.
    /// @param blockHeight Its height.
    /// @param txs Each deposit transaction with its index and merkle siblings.
    /// @param outputIndexes The custody output of each item.
    /// @return confirmed How many deposits were minted (items minus skipped).
    function confirmDepositsInBlock(
        bytes calldata blockHeader,
        uint32 blockHeight,
        BitcoinLightClient.TxInBlock[] calldata txs,
        uint32[] calldata outputIndexes
    ) external whenNotPaused returns (uint256 confirmed) {
        return
            TunnelDeposits.confirmDepositsInBlock(_s, lightClient, token, blockHeader, blockHeight, txs, outputIndexes);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Withdrawals, challenges, liquidation
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Burns `sats` hemiBTC of the caller and queues a withdrawal from the vault `selectVault` picks, at
    ///         the withdrawal fee in force (a raise only applies `feeRaiseDelay` after it was set).
    /// @param btcScript The Bitcoin output script to pay (P2WPKH, P2WSH, P2TR, P2PKH or P2SH; not a custody script).
    /// @param sats Satoshis to burn; the payout is sats - the vault's withdrawal fee.
    /// @return id The withdrawal id (its payout carries OP_RETURN <id as 8 bytes big-endian>).
    function requestWithdrawal(bytes calldata btcScript, uint64 sats) external whenNotPaused returns (uint64 id) {
        return TunnelWithdrawals.requestWithdrawal(_s, token, btcScript, sats, type(uint64).max);
    }

    /// @notice Like `requestWithdrawal(bytes,uint64)`, refused (FeeAboveMax) when the fee is above `maxFee`.
    /// @param btcScript The Bitcoin output script to pay.
    /// @param sats Satoshis to burn.
    /// @param maxFee The most fee, in satoshis, the caller accepts.
    /// @return id The withdrawal id.
    function requestWithdrawal(
        bytes calldata btcScript,
        uint64 sats,
        uint64 maxFee
    ) external whenNotPaused returns (uint64 id) {
        return TunnelWithdrawals.requestWithdrawal(_s, token, btcScript, sats, maxFee);
    }

    /// @notice Like `requestWithdrawal`, from a chosen vault (Live or Closing, with the custody and the collateral).
    /// @param vaultId The vault to withdraw from.
    /// @param btcScript The Bitcoin output script to pay.
    /// @param sats Satoshis to burn.
    /// @return id The withdrawal id.
    function requestWithdrawalFrom(
        uint32 vaultId,
        bytes calldata btcScript,
        uint64 sats
    ) external whenNotPaused returns (uint64 id) {
        return TunnelWithdrawals.requestWithdrawalFrom(_s, token, vaultId, btcScript, sats, type(uint64).max);
    }

    /// @notice Like `requestWithdrawalFrom(uint32,bytes,uint64)`, refused (FeeAboveMax) above `maxFee`.
    /// @param vaultId The vault to withdraw from.
    /// @param btcScript The Bitcoin output script to pay.
    /// @param sats Satoshis to burn.
    /// @param maxFee The most fee, in satoshis, the caller accepts.
    /// @return id The withdrawal id.
    function requestWithdrawalFrom(
        uint32 vaultId,
        bytes calldata btcScript,
        uint64 sats,
        uint64 maxFee
    ) external whenNotPaused returns (uint64 id) {
        return TunnelWithdrawals.requestWithdrawalFrom(_s, token, vaultId, btcScript, sats, maxFee);
    }

    /// @notice Proves a withdrawal's payout. Anyone. Works until the withdrawal is challenged, deadline or not.
    /// @dev The payout's outputs must be exactly: one paying the requested script exactly sats - fee, one
    ///      `OP_RETURN PUSH8 <id big-endian>`, and any change to the vault's custody script. Its block needs the
    ///      confirmations in force at the request.
    /// @param id The withdrawal.
    /// @param proof SPV proof of the payout transaction.
    function finalizeWithdrawal(uint64 id, BitcoinLightClient.TxProof calldata proof) external {
        TunnelWithdrawals.finalizeWithdrawal(_s, lightClient, id, proof);
    }

    /// @notice Pays an unproven withdrawal after its deadline with collateral worth `sats` from the vault and
    ///         slashes the vault. Anyone.
    /// @param id The withdrawal.
    function challengeWithdrawal(uint64 id) external {
        TunnelWithdrawals.challengeWithdrawal(_s, collateralToken, id);
    }

    /// @notice Burns `sats` hemiBTC of the caller backed by a Slashed or under-threshold vault and pays the caller
    ///         that vault's collateral worth sats plus the liquidation bonus. Anyone.
    /// @param vaultId The vault.
    /// @param sats Satoshis of hemiBTC (at most the hemiBTC the vault backs: custody - pending - accrued fees).
    /// @return collateralPaid Units of the collateral token paid.
    function liquidate(uint32 vaultId, uint64 sats) external returns (uint256 collateralPaid) {
        return TunnelLiquidation.liquidate(_s, token, collateralToken, vaultId, sats);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice A vault (all zero for an unknown id).
    function vault(uint32 vaultId) external view returns (Vault memory) {
        return _s.vaults[vaultId];
    }

    /// @notice How well a vault's custody is backed by its collateral.
    function vaultBacking(uint32 vaultId) external view returns (VaultBacking memory) {
        return TunnelVaults.backing(_s, vaultId);
    }

    /// @notice The vault whose custody script is `script`, or 0.
    function vaultOfScript(bytes calldata script) external view returns (uint32) {
        return _s.vaultOfScript[keccak256(script)];
    }

    /// @notice The withdrawal fee a request of `sats` from `vaultId` pays now.
    function withdrawalFee(uint32 vaultId, uint64 sats) external view returns (uint64) {
        return TunnelRules.withdrawalFee(TunnelRules.existing(_s, vaultId), sats);
    }

    /// @notice The record of a deposit output (sequence 0 when not minted). `txid` in internal byte order.
    function depositRecord(bytes32 txid, uint32 vout) external view returns (DepositRecord memory) {
        return _s.deposits[TunnelRules.outpointKey(txid, vout)];
    }

    /// @notice Number of deposits minted, and the furthest Bitcoin position among them.
    function orderCursor() external view returns (OrderCursor memory) {
        return _s.cursor;
    }

    /// @notice A withdrawal (all zero for an unknown id).
    function withdrawal(uint64 id) external view returns (Withdrawal memory) {
        return _s.withdrawals[id];
    }

    /// @notice The vault `requestWithdrawal` would use for `sats` (see TunnelWithdrawals.selectVault).
    /// @return found Whether one exists.
    /// @return vaultId Its id.
    function selectVault(uint64 sats) external view returns (bool found, uint32 vaultId) {
        return TunnelWithdrawals.selectVault(_s, sats);
    }

    /// @notice The governance settings.
    function config() external view returns (TunnelConfig memory) {
        return _s.config;
    }

    /// @notice Whether the tunnel is paused.
    function paused() external view returns (bool) {
        return _s.cursor.paused;
    }

    /// @notice Largest fee rate an operator may set, in basis points.
    function maxFeeBps() external view returns (uint16) {
        return _s.config.maxFeeBps;
    }

    /// @notice Largest flat fee an operator may set, in satoshis.
    function maxFlatFee() external view returns (uint64) {
        return _s.config.maxFlatFee;
    }

    /// @notice Seconds an operator has to get a payout proven (more if the vault's confirmations * 20 minutes is more).
    function withdrawalWindow() external view returns (uint64) {
        return _s.config.withdrawalWindow;
    }

    /// @notice Number of vaults created (ids 1..vaultCount).
    function vaultCount() external view returns (uint32) {
        return _s.vaultCount;
    }

    /// @notice Number of withdrawals requested (ids 1..withdrawalCount).
    function withdrawalCount() external view returns (uint64) {
        return _s.withdrawalCount;
    }
}
