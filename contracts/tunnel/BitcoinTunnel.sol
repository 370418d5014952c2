// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";
import {BitcoinTxOutputs} from "./BitcoinTxOutputs.sol";
import {HemiBTC} from "./HemiBTC.sol";

/// @title BitcoinTunnel
/// @notice Lock BTC on Bitcoin, receive hemiBTC here; burn hemiBTC, receive BTC back. Deposits are minted on an SPV
///         proof against the BitcoinLightClient that anyone may submit (no operator confirms them), exactly once per
///         (txid, vout); withdrawals are paid by the vault operator on Bitcoin and proven the same way, or, when not
///         proven by their deadline, paid to the user from the operator's bond.
/// @dev Design, in one place:
///      - Vaults. An account with OPERATOR_ROLE (granted by VAULT_MANAGER_ROLE) creates vaults. Each vault has one
///        custody script (P2WPKH, P2WSH, P2TR, P2PKH or P2SH; unique across vaults), fees, a minimum deposit, a
///        status and the Bitcoin confirmations its deposits and payouts need (default 6, set by VAULT_MANAGER_ROLE).
///        Ids start at 1.
///      - Deposit. A Bitcoin transaction with an output paying a custody script and exactly one OP_RETURN output,
///        which must be exactly `OP_RETURN PUSH20 <EVM recipient>` (script 0x6a14 || 20 bytes). The output's value
///        must be at least the vault's minimum. The recipient is minted value - fee, fee = flat + value * bps / 10000
///        (capped at the value). Deposit fees, like withdrawal fees, accrue to the vault as unminted hemiBTC that
///        the operator claims with `claimFees`; so a vault's `custody` always equals the hemiBTC it backs (held by
///        users, held by the tunnel as bonds, or accrued as fees) plus its pending withdrawals (a challenge breaks
///        this for the slashed vault: the user is paid from the bond while the unpaid BTC stays counted in custody).
///      - Order. Every confirmed deposit gets the next global `sequence` (the first is 1) and records its Bitcoin
///        position (height, txIndex; vout is in its key). Confirmation is NOT order-enforcing across calls, so nobody
///        can block a deposit by withholding an earlier one; instead each record says whether it came after every
///        previously confirmed deposit in Bitcoin order (`inBitcoinOrder`), so an observer can check the total
///        order. The batch form `confirmDepositsInBlock` requires its items in block order and skips (without
///        reverting) deposits already confirmed, so a front-run of one deposit cannot sink a batch.
///      - Withdrawal. `requestWithdrawal` burns the user's hemiBTC and queues a withdrawal with a sequential uint64 id
///        (the first is 1) and a deadline (now + the larger of `withdrawalWindow` and 20 minutes per confirmation
///        the vault requires). The operator pays out with a Bitcoin transaction whose outputs are: exactly one
///        paying the requested script exactly sats - fee; exactly one `OP_RETURN PUSH8 <id as 8 bytes big-endian>`
///        (script 0x6a08 || id); and any number of change outputs to the vault's custody script; nothing else.
///        Anyone proves it with `finalizeWithdrawal`: custody drops by the amount paid and the withdrawal fee
///        accrues to the vault. One payout transaction serves one withdrawal.
///      - Bond, in hemiBTC held by this contract. A vault takes a withdrawal only while its free bond
///        (bond - pending) covers it, so every pending withdrawal is covered. A withdrawal not proven by its deadline
///        can be challenged by anyone: the requester receives the full `sats` burned (fee included) from the bond,
///        and the vault becomes Slashed (no more deposits or withdrawals; its other pending withdrawals can still be
///        finalized or challenged). A payout proven after the deadline but before a challenge still finalizes.
///      - Vault selection for `requestWithdrawal(bytes,uint64)`: the lowest vault id whose status is Live or
///        Closing and that has both the custody (custody - pending) and the free bond for the amount; O(vaults).
///      - Pause. The global pause (PAUSER_ROLE) stops deposits and withdrawal requests; finalization and challenges
///        stay open, so users can always be made whole. A paused vault takes no deposits and no new withdrawals.
///      - Limits (not handled): a Slashed vault's remaining bond and custody have no recovery path (no governance
///        sweep); a deposit that pays a vault after it closed or was slashed is not minted; coinbase outputs are
///        accepted like any output (immature for 100 blocks on Bitcoin); inputs of a payout are not checked to spend
///        custody (the tunnel cannot see prevouts); the bond does not scale with custody, it covers pending
///        withdrawals only.
contract BitcoinTunnel is AccessControl {
    // ------------------------------------------------------------------------------------------------------------
    // Types
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Lifecycle of a vault. Live: takes deposits and withdrawals. Paused: neither (resumable). Closing:
    ///         serves withdrawals, takes only deposits from blocks up to the Bitcoin height at which it closed.
    ///         Slashed: a withdrawal was challenged; no deposits, no new withdrawals, no fee claims.
    enum VaultStatus {
        None,
        Live,
        Paused,
        Closing,
        Slashed
    }

    /// @notice Lifecycle of a withdrawal.
    enum WithdrawalStatus {
        None,
        Pending,
        Finalized,
        Challenged
    }

    /// @notice Fees and minimum an operator sets for a vault. Fee = flat + amount * bps / 10000.
    struct VaultTerms {
        uint16 depositFeeBps;
        uint64 depositFlatFee;
        uint16 withdrawalFeeBps;
        uint64 withdrawalFlatFee;
        uint64 minDeposit; // satoshis; smaller deposit outputs are never minted
    }

    /// @notice A vault. Amounts in satoshis (= hemiBTC units).
    struct Vault {
        // slot 0: everything a deposit reads
        VaultStatus status;
        bool pausedByGovernance; // paused by PAUSER_ROLE: only PAUSER_ROLE resumes it
        uint16 confirmations; // for deposits and payouts
        uint16 depositFeeBps;
        uint16 withdrawalFeeBps;
        uint64 minDeposit;
        uint64 depositFlatFee;
        uint64 withdrawalFlatFee;
        // slot 1
        address operator;
        uint32 depositsUntilHeight; // Closing: deposits in blocks at or below this Bitcoin height are still minted
        // slot 2: balances
        uint64 custody; // sats the custody script holds by the tunnel's accounting (deposited - paid out)
        uint64 pending; // sats of pending withdrawals
        uint64 accruedFees; // fees earned, not yet minted to the operator
        uint64 bond; // hemiBTC held by the tunnel for this vault
        // slot 3
        bytes32 custodyScriptHash; // keccak256 of the custody script
    }

    /// @notice A queued withdrawal (two storage slots).
    struct Withdrawal {
        address requester;
        uint32 vaultId;
        WithdrawalStatus status;
        uint48 deadline; // EVM timestamp; challengeable after it
        uint64 sats; // burned
        uint64 fee; // the payout must be sats - fee
        bytes16 btcScriptHash; // first 16 bytes of keccak256 of the script to pay (second preimages cost 2**128)
    }

    /// @notice What is recorded for a confirmed deposit (sequence 0: not confirmed).
    struct DepositRecord {
        uint64 sequence;
        uint32 blockHeight;
        uint32 txIndex;
        uint32 vaultId;
        bool inBitcoinOrder; // came after every previously confirmed deposit in (height, txIndex, vout) order
    }

    /// @notice The global deposit counter and the furthest Bitcoin position confirmed so far (a high-water mark: a
    ///         deposit confirmed out of order does not move it back); the global pause flag shares the slot (every
    ///         deposit reads both).
    struct OrderCursor {
        uint64 count;
        uint32 height;
        uint32 txIndex;
        uint32 vout;
        bool paused;
    }

    /// @dev What a payout transaction must show.
    struct PayoutTerms {
        uint64 id;
        uint64 paid;
        bytes16 userScriptHash;
        bytes32 custodyScriptHash;
    }

    /// @dev A checked deposit on its way to being recorded.
    struct DepositItem {
        bytes32 txid;
        uint32 vout;
        uint32 height;
        uint32 txIndex;
        uint32 vaultId;
        uint64 value;
        address recipient;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Constants and state
    // ------------------------------------------------------------------------------------------------------------

    /// @notice May pause and resume the tunnel and any vault.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Grants OPERATOR_ROLE and sets each vault's confirmations.
    bytes32 public constant VAULT_MANAGER_ROLE = keccak256("VAULT_MANAGER_ROLE");
    /// @notice May create vaults (administered by VAULT_MANAGER_ROLE).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    /// @notice Confirmations a new vault requires.
    uint16 internal constant DEFAULT_CONFIRMATIONS = 6;
    /// @notice Bounds of a vault's confirmations.
    uint16 internal constant MAX_CONFIRMATIONS = 1000;
    /// @notice Hard cap of the governance fee limit (50%).
    uint16 internal constant FEE_BPS_CAP = 5000;
    /// @notice Hard cap of the governance flat fee limit: 21 million BTC in satoshis (keeps every fee in uint64).
    uint64 internal constant FLAT_FEE_CAP = 21e14;
    /// @notice Smallest payout a withdrawal may ask for (Bitcoin's common dust limit).
    uint64 public constant DUST_LIMIT = 546;
    /// @notice Bounds of the withdrawal window.
    uint64 internal constant MIN_WITHDRAWAL_WINDOW = 1 hours;
    uint64 internal constant MAX_WITHDRAWAL_WINDOW = 30 days;

    uint256 private constant BPS = 10_000;
    uint256 private constant NO_INDEX = type(uint256).max;

    /// @notice The light client that proves deposits and payouts.
    BitcoinLightClient public immutable lightClient;
    /// @notice The representation token, deployed by this contract.
    HemiBTC public immutable token;

    /// @notice Largest fee rate an operator may set, in basis points.
    uint16 public maxFeeBps;
    /// @notice Largest flat fee an operator may set, in satoshis.
    uint64 public maxFlatFee;
    /// @notice Seconds an operator has to get a payout proven (more if the vault's confirmations * 20 minutes is more).
    uint64 public withdrawalWindow;
    /// @notice Number of vaults created (ids 1..vaultCount).
    uint32 public vaultCount;
    /// @notice Number of withdrawals requested (ids 1..withdrawalCount).
    uint64 public withdrawalCount;

    OrderCursor private _cursor;
    mapping(uint256 vaultId => Vault) private _vaults;
    mapping(bytes32 scriptHash => uint32 vaultId) private _vaultOfScript;
    mapping(bytes32 outpointKey => DepositRecord) private _deposits;
    mapping(uint256 id => Withdrawal) private _withdrawals;

    // ------------------------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------------------------

    /// @notice A deposit was minted. `txid` in internal byte order; `sequence` is its place in the total order.
    event DepositConfirmed(bytes32 txid, uint32 vout, address recipient, uint64 sats, uint64 minted, uint64 sequence);
    /// @notice A vault was created. The custody script is stored only here (and as a hash in the vault).
    event VaultCreated(uint32 indexed vaultId, address indexed operator, bytes custodyScript);
    /// @notice A vault's fees or minimum changed.
    event VaultTermsSet(uint32 indexed vaultId, VaultTerms terms);
    /// @notice A vault's required confirmations changed.
    event VaultConfirmationsSet(uint32 indexed vaultId, uint16 confirmations);
    /// @notice A vault's status changed.
    event VaultStatusChanged(uint32 indexed vaultId, VaultStatus status);
    /// @notice Bond was added to a vault.
    event BondAdded(uint32 indexed vaultId, address indexed from, uint64 amount, uint64 bond);
    /// @notice A closed vault's bond was returned.
    event BondWithdrawn(uint32 indexed vaultId, address indexed to, uint64 amount);
    /// @notice A vault's accrued fees were minted.
    event FeesClaimed(uint32 indexed vaultId, address indexed to, uint64 amount);
    /// @notice A withdrawal was queued; the operator must pay `sats - fee` to `btcScript` with OP_RETURN <id>.
    event WithdrawalRequested(
        uint64 indexed id,
        uint32 indexed vaultId,
        address indexed requester,
        bytes btcScript,
        uint64 sats,
        uint64 fee,
        uint64 deadline
    );
    /// @notice A withdrawal's payout was proven (`payoutTxid` in internal byte order).
    event WithdrawalFinalized(uint64 indexed id, uint32 indexed vaultId, bytes32 payoutTxid, uint64 paid);
    /// @notice A withdrawal passed its deadline unpaid; the requester got `sats` from the vault's bond.
    event WithdrawalChallenged(uint64 indexed id, uint32 indexed vaultId, address indexed requester, uint64 sats);
    /// @notice The tunnel was paused (same event as OpenZeppelin Pausable).
    event Paused(address account);
    /// @notice The tunnel was unpaused (same event as OpenZeppelin Pausable).
    event Unpaused(address account);
    /// @notice Governance fee limits changed.
    event FeeLimitsSet(uint16 maxFeeBps, uint64 maxFlatFee);
    /// @notice The withdrawal window changed.
    event WithdrawalWindowSet(uint64 window);

    // ------------------------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The tunnel is paused (same error as OpenZeppelin Pausable).
    error EnforcedPause();
    /// @notice The tunnel is not paused (same error as OpenZeppelin Pausable).
    error ExpectedPause();
    /// @notice No vault has that id.
    error UnknownVault(uint32 vaultId);
    /// @notice The caller is not the vault's operator.
    error NotVaultOperator(uint32 vaultId, address caller);
    /// @notice The caller is neither the vault's operator nor a PAUSER_ROLE holder.
    error NotOperatorOrPauser(uint32 vaultId, address caller);
    /// @notice The vault is paused by governance; only PAUSER_ROLE resumes it.
    error PausedByGovernance(uint32 vaultId);
    /// @notice The action needs another vault status.
    error BadVaultStatus(uint32 vaultId, VaultStatus status);
    /// @notice A custody script must be P2WPKH, P2WSH, P2TR, P2PKH or P2SH.
    error UnsupportedCustodyScript(bytes script);
    /// @notice The custody script (keccak256 `scriptHash`) already belongs to a vault.
    error CustodyScriptTaken(bytes32 scriptHash, uint32 vaultId);
    /// @notice A fee exceeds the governance limits.
    error FeeAboveLimit(uint256 feeBps, uint256 flatFee, uint256 maxFeeBps, uint256 maxFlatFee);
    /// @notice A deposit fee or the minimum deposit would go up (deposits in flight would pay more or be stranded).
    error DepositTermsRaised(uint32 vaultId);
    /// @notice A governance fee limit above FEE_BPS_CAP or FLAT_FEE_CAP.
    error FeeLimitTooHigh(uint16 maxFeeBps, uint64 maxFlatFee);
    /// @notice Confirmations outside 1..MAX_CONFIRMATIONS.
    error InvalidConfirmations(uint16 confirmations);
    /// @notice Withdrawal window outside MIN_WITHDRAWAL_WINDOW..MAX_WITHDRAWAL_WINDOW.
    error InvalidWithdrawalWindow(uint64 window);
    /// @notice An amount of zero where a positive one is needed.
    error ZeroAmount();
    /// @notice A zero address where an account is needed.
    error ZeroAddress();

    /// @notice The deposit output index is past the transaction's outputs.
    error OutputIndexOutOfRange(uint256 index, uint256 count);
    /// @notice The deposit output does not pay any vault's custody script.
    error NotACustodyScript(bytes32 scriptHash);
    /// @notice The vault does not take this deposit (status, or a block after it closed).
    error VaultNotAcceptingDeposits(uint32 vaultId, VaultStatus status, uint32 blockHeight);
    /// @notice The deposit output is below the vault's minimum.
    error DepositBelowMinimum(uint32 vaultId, uint64 sats, uint64 minDeposit);
    /// @notice The transaction has no OP_RETURN output.
    error MissingOpReturn();
    /// @notice The transaction has more than one OP_RETURN output.
    error MultipleOpReturns(uint256 firstIndex, uint256 secondIndex);
    /// @notice The OP_RETURN output is not exactly the expected single push (20-byte recipient or 8-byte id).
    error MalformedOpReturn(uint256 outputIndex);
    /// @notice The deposit's OP_RETURN names the zero address.
    error ZeroRecipient();
    /// @notice This (txid, vout) was already minted.
    error DepositAlreadyConfirmed(bytes32 txid, uint32 vout, uint64 sequence);
    /// @notice Batch arrays of different lengths, or an empty batch.
    error BadBatch(uint256 txs, uint256 outputIndexes);
    /// @notice Batch item `index` is not after the previous one in (txIndex, vout) order.
    error BatchNotInBlockOrder(uint256 index);
    /// @notice A transaction index that cannot be in a block.
    error TxIndexOutOfRange(uint256 txIndex);

    /// @notice A withdrawal to a script kind the tunnel does not pay (or to a custody script).
    error UnsupportedWithdrawalScript(bytes script);
    /// @notice The payout after fees would be under DUST_LIMIT.
    error WithdrawalTooSmall(uint64 sats, uint64 fee, uint64 dustLimit);
    /// @notice No vault can serve the amount.
    error NoVaultCanServe(uint64 sats);
    /// @notice The vault's custody (minus pending) cannot cover the amount.
    error InsufficientCustody(uint32 vaultId, uint64 available, uint64 sats);
    /// @notice The vault's free bond cannot cover the amount.
    error InsufficientBond(uint32 vaultId, uint64 freeBond, uint64 sats);
    /// @notice The withdrawal is not pending.
    error WithdrawalNotPending(uint64 id, WithdrawalStatus status);
    /// @notice The payout's OP_RETURN carries another id.
    error PayoutIdMismatch(uint64 expected, uint64 actual);
    /// @notice No output pays the withdrawal's script.
    error PayoutNotFound(uint64 id);
    /// @notice The output paying the withdrawal's script has the wrong value.
    error PayoutAmountMismatch(uint64 id, uint64 expected, uint64 actual);
    /// @notice More than one output pays the withdrawal's script.
    error PayoutOutputRepeated(uint64 id, uint256 outputIndex);
    /// @notice An output is neither the payout, the OP_RETURN nor change to the custody script.
    error UnexpectedPayoutOutput(uint64 id, uint256 outputIndex);
    /// @notice The withdrawal's deadline has not passed.
    error DeadlineNotPassed(uint64 id, uint64 deadline, uint256 timestamp);
    /// @notice The vault still has pending withdrawals (`pending` sats).
    error WithdrawalsPending(uint32 vaultId, uint64 pending);

    // ------------------------------------------------------------------------------------------------------------
    // Construction and governance
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Deploys the tunnel and its HemiBTC token.
    /// @param lightClient_ The Bitcoin light client.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (fee limits, withdrawal window, role grants).
    constructor(BitcoinLightClient lightClient_, address admin) {
        if (address(lightClient_) == address(0) || admin == address(0)) revert ZeroAddress();
        lightClient = lightClient_;
        token = new HemiBTC();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRoleAdmin(OPERATOR_ROLE, VAULT_MANAGER_ROLE);
        maxFeeBps = 500;
        maxFlatFee = 100_000;
        withdrawalWindow = 1 days;
        emit FeeLimitsSet(500, 100_000);
        emit WithdrawalWindowSet(1 days);
    }

    /// @notice Sets the fee limits operators must respect (existing terms are not changed). DEFAULT_ADMIN_ROLE.
    /// @param maxFeeBps_ Largest rate in basis points (at most FEE_BPS_CAP).
    /// @param maxFlatFee_ Largest flat fee in satoshis (at most FLAT_FEE_CAP).
    function setFeeLimits(uint16 maxFeeBps_, uint64 maxFlatFee_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (maxFeeBps_ > FEE_BPS_CAP || maxFlatFee_ > FLAT_FEE_CAP) revert FeeLimitTooHigh(maxFeeBps_, maxFlatFee_);
        maxFeeBps = maxFeeBps_;
        maxFlatFee = maxFlatFee_;
        emit FeeLimitsSet(maxFeeBps_, maxFlatFee_);
    }

    /// @notice Sets the time operators have to get a payout proven (for new withdrawals). DEFAULT_ADMIN_ROLE.
    /// @param window Seconds, within MIN_WITHDRAWAL_WINDOW..MAX_WITHDRAWAL_WINDOW.
    function setWithdrawalWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (window < MIN_WITHDRAWAL_WINDOW || window > MAX_WITHDRAWAL_WINDOW) revert InvalidWithdrawalWindow(window);
        withdrawalWindow = window;
        emit WithdrawalWindowSet(window);
    }

    /// @notice Stops deposits and withdrawal requests everywhere. PAUSER_ROLE.
    function pause() external onlyRole(PAUSER_ROLE) {
        if (_cursor.paused) revert EnforcedPause();
        _cursor.paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Lifts the global pause. PAUSER_ROLE.
    function unpause() external onlyRole(PAUSER_ROLE) {
        if (!_cursor.paused) revert ExpectedPause();
        _cursor.paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Whether the tunnel is paused.
    function paused() external view returns (bool) {
        return _cursor.paused;
    }

    modifier whenNotPaused() {
        _requireNotPaused();
        _;
    }

    function _requireNotPaused() private view {
        if (_cursor.paused) revert EnforcedPause();
    }

    /// @notice Sets the Bitcoin confirmations a vault's deposits and payouts need. VAULT_MANAGER_ROLE.
    /// @param vaultId The vault.
    /// @param confirmations 1..MAX_CONFIRMATIONS.
    function setVaultConfirmations(uint32 vaultId, uint16 confirmations) external onlyRole(VAULT_MANAGER_ROLE) {
        Vault storage v = _existing(vaultId);
        if (confirmations == 0 || confirmations > MAX_CONFIRMATIONS) revert InvalidConfirmations(confirmations);
        v.confirmations = confirmations;
        emit VaultConfirmationsSet(vaultId, confirmations);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Vault operators
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Creates a Live vault operated by the caller. OPERATOR_ROLE.
    /// @param script The custody script deposits pay (P2WPKH, P2WSH, P2TR, P2PKH or P2SH), unique across vaults.
    /// @param terms Fees (within the governance limits) and minimum deposit.
    /// @return vaultId The new vault's id.
    /// @dev `terms` is in memory (here and in setVaultTerms): decoded once, less code than repeated calldata reads.
    // solhint-disable-next-line gas-calldata-parameters
    function createVault(
        bytes calldata script,
        VaultTerms memory terms
    ) external onlyRole(OPERATOR_ROLE) returns (uint32 vaultId) {
        if (!_isPayableScript(script)) revert UnsupportedCustodyScript(script);
        bytes32 h = keccak256(script);
        uint32 taken = _vaultOfScript[h];
        if (taken != 0) revert CustodyScriptTaken(h, taken);
        vaultId = ++vaultCount;
        Vault storage v = _vaults[vaultId];
        v.status = VaultStatus.Live;
        v.confirmations = DEFAULT_CONFIRMATIONS;
        v.operator = msg.sender;
        v.custodyScriptHash = h;
        _vaultOfScript[h] = vaultId;
        emit VaultCreated(vaultId, msg.sender, script);
        _setTerms(vaultId, v, terms, true);
        emit VaultConfirmationsSet(vaultId, DEFAULT_CONFIRMATIONS);
    }

    /// @notice Changes a vault's fees and minimum deposit; applies to deposits confirmed and withdrawals requested
    ///         from now on. Deposit fees and the minimum may only go down: deposits already sent on Bitcoin are
    ///         minted under the terms at confirmation, so raising them would take from (or strand) those deposits.
    ///         Withdrawal fees may go up or down (a withdrawal keeps the fee of its request). Vault operator only.
    /// @param vaultId The vault.
    /// @param terms The new terms.
    // solhint-disable-next-line gas-calldata-parameters
    function setVaultTerms(uint32 vaultId, VaultTerms memory terms) external {
        _setTerms(vaultId, _operated(vaultId), terms, false);
    }

    /// @notice Pauses a Live vault (no deposits, no new withdrawals) or resumes a Paused one. The vault operator or
    ///         PAUSER_ROLE may pause; the operator may resume unless PAUSER_ROLE paused it; PAUSER_ROLE may resume.
    /// @param vaultId The vault.
    /// @param pause_ True to pause, false to resume.
    function setVaultPaused(uint32 vaultId, bool pause_) external {
        Vault storage v = _existing(vaultId);
        bool pauser = hasRole(PAUSER_ROLE, msg.sender);
        bool operator = msg.sender == v.operator;
        if (!pauser && !operator) revert NotOperatorOrPauser(vaultId, msg.sender);
        VaultStatus from = pause_ ? VaultStatus.Live : VaultStatus.Paused;
        if (v.status != from) revert BadVaultStatus(vaultId, v.status);
        if (!pause_ && !pauser && v.pausedByGovernance) revert PausedByGovernance(vaultId);
        VaultStatus to = pause_ ? VaultStatus.Paused : VaultStatus.Live;
        v.status = to;
        v.pausedByGovernance = pause_ && !operator;
        emit VaultStatusChanged(vaultId, to);
    }

    /// @notice Starts closing a Live or Paused vault (irreversible): it keeps serving withdrawals and mints only
    ///         deposits in Bitcoin blocks up to the light client's current best height. Vault operator only.
    /// @param vaultId The vault.
    function closeVault(uint32 vaultId) external {
        Vault storage v = _operated(vaultId);
        if (v.status != VaultStatus.Live && v.status != VaultStatus.Paused) revert BadVaultStatus(vaultId, v.status);
        if (v.pausedByGovernance) revert PausedByGovernance(vaultId);
        (, uint32 best) = lightClient.bestBlock();
        v.status = VaultStatus.Closing;
        v.depositsUntilHeight = best;
        emit VaultStatusChanged(vaultId, VaultStatus.Closing);
    }

    /// @notice Adds hemiBTC to a vault's bond (pulled from the caller with transferFrom). Anyone.
    /// @param vaultId The vault.
    /// @param amount Satoshis of hemiBTC.
    function addBond(uint32 vaultId, uint64 amount) external {
        Vault storage v = _existing(vaultId);
        if (amount == 0) revert ZeroAmount();
        uint64 bond = v.bond + amount;
        v.bond = bond;
        token.transferFrom(msg.sender, address(this), amount);
        emit BondAdded(vaultId, msg.sender, amount, bond);
    }

    /// @notice Returns the whole bond of a Closing vault with no pending withdrawals (the bond covers pending
    ///         withdrawals only; custody left, such as a dust remainder or the bond's own hemiBTC, does not hold it).
    ///         Without bond the vault takes no new withdrawals. Vault operator only.
    /// @param vaultId The vault.
    /// @param to Receives the hemiBTC.
    function withdrawBond(uint32 vaultId, address to) external {
        Vault storage v = _operated(vaultId);
        if (to == address(0)) revert ZeroAddress();
        if (v.status != VaultStatus.Closing) revert BadVaultStatus(vaultId, v.status);
        uint64 pending = v.pending;
        if (pending != 0) revert WithdrawalsPending(vaultId, pending);
        uint64 amount = v.bond;
        if (amount == 0) revert ZeroAmount();
        v.bond = 0;
        _pay(to, amount);
        emit BondWithdrawn(vaultId, to, amount);
    }

    /// @notice Mints a vault's accrued deposit and withdrawal fees; not for a Slashed vault (its custody no longer
    ///         matches what it backs). Vault operator only.
    /// @param vaultId The vault.
    /// @param to Receives the hemiBTC.
    function claimFees(uint32 vaultId, address to) external {
        Vault storage v = _operated(vaultId);
        if (to == address(0)) revert ZeroAddress();
        if (v.status == VaultStatus.Slashed) revert BadVaultStatus(vaultId, VaultStatus.Slashed);
        uint64 amount = v.accruedFees;
        if (amount == 0) revert ZeroAmount();
        v.accruedFees = 0;
        _mint(to, amount);
        emit FeesClaimed(vaultId, to, amount);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Deposits
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Mints a Bitcoin deposit. Anyone may call it once the deposit's block has the vault's confirmations.
    /// @dev Checks, in order: the output exists; exactly one OP_RETURN output, exactly 0x6a14 || recipient; the
    ///      output pays a custody script; the vault takes deposits; the value is at least its minimum; the SPV proof
    ///      (light client `verifyTx` with the vault's confirmations: canonical block, merkle path, well-formed tx);
    ///      the (txid, vout) was never minted.
    /// @param proof SPV proof of the deposit transaction (non-witness serialization).
    /// @param outputIndex The vout paying the custody script.
    /// @return sequence The deposit's place in the tunnel's total order.
    function confirmDeposit(
        BitcoinLightClient.TxProof calldata proof,
        uint32 outputIndex
    ) external whenNotPaused returns (uint64 sequence) {
        DepositItem memory d;
        uint16 conf = _prepare(d, proof.rawTx, outputIndex, proof.blockHeight, 0);
        d.txid = lightClient.verifyTx(proof, conf);
        // verifyTx accepted the index, so it is below 2**32 (merkle depth <= 32).
        d.txIndex = uint32(proof.txIndex);
        bytes32 key = _outpointKey(d.txid, outputIndex);
        uint64 seen = _deposits[key].sequence;
        if (seen != 0) revert DepositAlreadyConfirmed(d.txid, outputIndex, seen);
        OrderCursor memory cur = _cursor;
        sequence = _record(key, d, cur);
        _cursor = cur;
    }

    /// @notice Mints several deposits of one Bitcoin block in one call, checking the block once.
    /// @dev Items must be in block order: strictly increasing (txIndex, outputIndex); a transaction with several
    ///      deposit outputs appears once per output. Items already minted are skipped, not reverted on; every other
    ///      failed check reverts the whole batch with the error `confirmDeposit` gives. The block must have the
    ///      largest confirmation count any of the batch's vaults requires.
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
        if (txs.length == 0 || txs.length != outputIndexes.length) revert BadBatch(txs.length, outputIndexes.length);
        (DepositItem[] memory items, uint16 conf) = _prepareBatch(txs, outputIndexes, blockHeight);
        bytes32[] memory txids = lightClient.verifyTxsInBlock(blockHeader, blockHeight, conf, txs);
        OrderCursor memory cur = _cursor;
        for (uint256 i; i < items.length; ++i) {
            DepositItem memory d = items[i];
            d.txid = txids[i];
            bytes32 key = _outpointKey(d.txid, d.vout);
            if (_deposits[key].sequence != 0) continue;
            _record(key, d, cur);
            ++confirmed;
        }
        _cursor = cur;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Withdrawals
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Burns `sats` hemiBTC of the caller and queues a withdrawal from the vault chosen by
    ///         `selectVault` (the lowest-id Live or Closing vault with the custody and free bond for it).
    /// @param btcScript The Bitcoin output script to pay (P2WPKH, P2WSH, P2TR, P2PKH or P2SH; not a custody script).
    /// @param sats Satoshis to burn; the payout is sats - the vault's withdrawal fee.
    /// @return id The withdrawal id (its payout carries OP_RETURN <id as 8 bytes big-endian>).
    function requestWithdrawal(bytes calldata btcScript, uint64 sats) external whenNotPaused returns (uint64 id) {
        (bool found, uint32 vaultId) = selectVault(sats);
        if (!found) revert NoVaultCanServe(sats);
        id = _requestWithdrawal(vaultId, btcScript, sats);
    }

    /// @notice Like `requestWithdrawal`, from a chosen vault (Live or Closing, with the custody and free bond).
    /// @param vaultId The vault to withdraw from.
    /// @param btcScript The Bitcoin output script to pay.
    /// @param sats Satoshis to burn.
    /// @return id The withdrawal id.
    function requestWithdrawalFrom(
        uint32 vaultId,
        bytes calldata btcScript,
        uint64 sats
    ) external whenNotPaused returns (uint64 id) {
        Vault storage v = _existing(vaultId);
        if (v.status != VaultStatus.Live && v.status != VaultStatus.Closing) revert BadVaultStatus(vaultId, v.status);
        uint64 available;
        uint64 freeBond;
        unchecked {
            // pending <= custody and pending <= bond always hold.
            available = v.custody - v.pending;
            freeBond = v.bond - v.pending;
        }
        if (available < sats) revert InsufficientCustody(vaultId, available, sats);
        if (freeBond < sats) revert InsufficientBond(vaultId, freeBond, sats);
        id = _requestWithdrawal(vaultId, btcScript, sats);
    }

    /// @notice Proves a withdrawal's payout. Anyone. Works until the withdrawal is challenged, deadline or not.
    /// @dev The payout transaction's outputs must be exactly: one paying the requested script exactly sats - fee,
    ///      one `OP_RETURN PUSH8 <id big-endian>`, and any change to the vault's custody script. Its block needs the
    ///      vault's confirmations.
    /// @param id The withdrawal.
    /// @param proof SPV proof of the payout transaction.
    function finalizeWithdrawal(uint64 id, BitcoinLightClient.TxProof calldata proof) external {
        Withdrawal storage w = _withdrawals[id];
        if (w.status != WithdrawalStatus.Pending) revert WithdrawalNotPending(id, w.status);
        uint32 vaultId = w.vaultId;
        Vault storage v = _vaults[vaultId];
        uint64 sats = w.sats;
        uint64 fee = w.fee;
        uint64 paid;
        unchecked {
            paid = sats - fee; // fee <= sats, checked at request
        }
        _checkPayout(
            proof.rawTx,
            PayoutTerms({id: id, paid: paid, userScriptHash: w.btcScriptHash, custodyScriptHash: v.custodyScriptHash})
        );
        bytes32 txid = lightClient.verifyTx(proof, v.confirmations);
        w.status = WithdrawalStatus.Finalized;
        unchecked {
            // pending <= custody and this withdrawal's sats are part of pending; paid <= sats.
            v.custody -= paid;
            v.pending -= sats;
            v.accruedFees += fee;
        }
        emit WithdrawalFinalized(id, vaultId, txid, paid);
    }

    /// @notice Pays an unproven withdrawal after its deadline from the vault's bond and slashes the vault. Anyone.
    /// @dev The requester receives the full `sats` burned, in hemiBTC from the bond. The vault becomes Slashed.
    /// @param id The withdrawal.
    function challengeWithdrawal(uint64 id) external {
        Withdrawal storage w = _withdrawals[id];
        if (w.status != WithdrawalStatus.Pending) revert WithdrawalNotPending(id, w.status);
        if (block.timestamp <= w.deadline) revert DeadlineNotPassed(id, w.deadline, block.timestamp);
        uint32 vaultId = w.vaultId;
        Vault storage v = _vaults[vaultId];
        uint64 sats = w.sats;
        w.status = WithdrawalStatus.Challenged;
        unchecked {
            // This withdrawal's sats are part of pending, and bond >= pending always holds.
            v.pending -= sats;
            v.bond -= sats;
        }
        if (v.status != VaultStatus.Slashed) {
            v.status = VaultStatus.Slashed;
            emit VaultStatusChanged(vaultId, VaultStatus.Slashed);
        }
        address requester = w.requester;
        _pay(requester, sats);
        emit WithdrawalChallenged(id, vaultId, requester, sats);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice A vault (all zero for an unknown id).
    function vault(uint32 vaultId) external view returns (Vault memory) {
        return _vaults[vaultId];
    }

    /// @notice The vault whose custody script is `script`, or 0.
    function vaultOfScript(bytes calldata script) external view returns (uint32) {
        return _vaultOfScript[keccak256(script)];
    }

    /// @notice The record of a deposit output (sequence 0 when not minted). `txid` in internal byte order.
    function depositRecord(bytes32 txid, uint32 vout) external view returns (DepositRecord memory) {
        return _deposits[_outpointKey(txid, vout)];
    }

    /// @notice Number of deposits minted, and the furthest Bitcoin position among them.
    function orderCursor() external view returns (OrderCursor memory) {
        return _cursor;
    }

    /// @notice A withdrawal (all zero for an unknown id).
    function withdrawal(uint64 id) external view returns (Withdrawal memory) {
        return _withdrawals[id];
    }

    /// @notice The vault `requestWithdrawal` would use for `sats`: the lowest id that is Live or Closing and has
    ///         custody - pending >= sats and bond - pending >= sats.
    /// @return found Whether one exists.
    /// @return vaultId Its id.
    function selectVault(uint64 sats) public view returns (bool found, uint32 vaultId) {
        uint32 count = vaultCount;
        for (uint32 id = 1; id <= count; ++id) {
            Vault storage v = _vaults[id];
            VaultStatus s = v.status;
            if (s != VaultStatus.Live && s != VaultStatus.Closing) continue;
            uint64 pending = v.pending;
            unchecked {
                if (v.custody - pending >= sats && v.bond - pending >= sats) return (true, id);
            }
        }
        return (false, 0);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    function _existing(uint32 vaultId) private view returns (Vault storage v) {
        v = _vaults[vaultId];
        if (v.status == VaultStatus.None) revert UnknownVault(vaultId);
    }

    function _operated(uint32 vaultId) private view returns (Vault storage v) {
        v = _existing(vaultId);
        if (msg.sender != v.operator) revert NotVaultOperator(vaultId, msg.sender);
    }

    /// @dev Checks and stores a vault's terms; `initial` (a new vault) lets the deposit terms start anywhere.
    function _setTerms(uint32 vaultId, Vault storage v, VaultTerms memory t, bool initial) private {
        if (
            !initial &&
            (t.depositFeeBps > v.depositFeeBps || t.depositFlatFee > v.depositFlatFee || t.minDeposit > v.minDeposit)
        ) revert DepositTermsRaised(vaultId);
        uint16 maxBps = maxFeeBps;
        uint64 maxFlat = maxFlatFee;
        if (t.depositFeeBps > maxBps || t.depositFlatFee > maxFlat) {
            revert FeeAboveLimit(t.depositFeeBps, t.depositFlatFee, maxBps, maxFlat);
        }
        if (t.withdrawalFeeBps > maxBps || t.withdrawalFlatFee > maxFlat) {
            revert FeeAboveLimit(t.withdrawalFeeBps, t.withdrawalFlatFee, maxBps, maxFlat);
        }
        v.depositFeeBps = t.depositFeeBps;
        v.depositFlatFee = t.depositFlatFee;
        v.withdrawalFeeBps = t.withdrawalFeeBps;
        v.withdrawalFlatFee = t.withdrawalFlatFee;
        v.minDeposit = t.minDeposit;
        emit VaultTermsSet(vaultId, t);
    }

    /// @dev Sends hemiBTC held by the tunnel (bonds). `_pay` and `_mint` keep one copy of each external call's code.
    function _pay(address to, uint64 amount) private {
        token.transfer(to, amount);
    }

    /// @dev Mints hemiBTC (deposits, fees).
    function _mint(address to, uint64 amount) private {
        token.mint(to, amount);
    }

    /// @dev Fits uint64: flat <= FLAT_FEE_CAP (2.1e15) and sats * bps / BPS <= sats / 2 < 2**63 (bps <= FEE_BPS_CAP).
    function _fee(uint64 sats, uint16 bps, uint64 flat) private pure returns (uint64) {
        return uint64(uint256(flat) + (uint256(sats) * bps) / BPS);
    }

    function _outpointKey(bytes32 txid, uint32 vout) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, txid)
            mstore(0x20, shl(224, vout))
            key := keccak256(0x00, 0x24)
        }
    }

    /// @dev Whether a script is one the tunnel can hold custody in or pay out to: exactly a P2WPKH (0x0014 <20>),
    ///      P2WSH (0x0020 <32>), P2TR (0x5120 <32>), P2PKH (0x76a914 <20> 0x88ac) or P2SH (0xa914 <20> 0x87)
    ///      template, as BitcoinScript.classify recognises them.
    function _isPayableScript(bytes calldata script) private pure returns (bool) {
        uint256 len = script.length;
        if (len == 0) return false;
        uint256 w;
        assembly {
            w := calldataload(script.offset)
        }
        uint256 head = w >> 240;
        if (len == 22) return head == 0x0014;
        if (len == 34) return head == 0x0020 || head == 0x5120;
        if (len == 25) return (w >> 232) == 0x76a914 && ((w >> 56) & 0xffff) == 0x88ac;
        if (len == 23) return head == 0xa914 && ((w >> 72) & 0xff) == 0x87;
        return false;
    }

    /// @dev The vault's required confirmations, after checking it takes a deposit of `value` from `blockHeight`.
    function _checkDepositTerms(
        uint32 vaultId,
        bytes32 scriptHash,
        uint64 value,
        uint32 blockHeight
    ) private view returns (uint16) {
        if (vaultId == 0) revert NotACustodyScript(scriptHash);
        Vault storage v = _vaults[vaultId];
        VaultStatus s = v.status;
        if (s != VaultStatus.Live && (s != VaultStatus.Closing || blockHeight > v.depositsUntilHeight)) {
            revert VaultNotAcceptingDeposits(vaultId, s, blockHeight);
        }
        uint64 min = v.minDeposit;
        if (value < min) revert DepositBelowMinimum(vaultId, value, min);
        return v.confirmations;
    }

    /// @dev Checks the batch's block order and every item against its vault; returns the items and the largest
    ///      confirmation count their vaults require.
    function _prepareBatch(
        BitcoinLightClient.TxInBlock[] calldata txs,
        uint32[] calldata outputIndexes,
        uint32 blockHeight
    ) private view returns (DepositItem[] memory items, uint16 conf) {
        uint256 n = txs.length;
        items = new DepositItem[](n);
        uint256 prevPos;
        for (uint256 i; i < n; ++i) {
            uint256 txIndex = txs[i].txIndex;
            if (txIndex > type(uint32).max) revert TxIndexOutOfRange(txIndex);
            uint256 pos = (txIndex << 32) | outputIndexes[i];
            if (i != 0 && pos <= prevPos) revert BatchNotInBlockOrder(i);
            prevPos = pos;
            uint16 c = _prepare(items[i], txs[i].rawTx, outputIndexes[i], blockHeight, uint32(txIndex));
            if (c > conf) conf = c;
        }
    }

    /// @dev Fills a batch item from its transaction and checks it against its vault; returns the confirmations
    ///      the vault requires.
    function _prepare(
        DepositItem memory d,
        bytes calldata rawTx,
        uint32 vout,
        uint32 height,
        uint32 txIndex
    ) private view returns (uint16) {
        bytes32 scriptHash;
        (d.value, scriptHash, d.recipient) = _scanDeposit(rawTx, vout);
        d.vaultId = _vaultOfScript[scriptHash];
        d.vout = vout;
        d.height = height;
        d.txIndex = txIndex;
        return _checkDepositTerms(d.vaultId, scriptHash, d.value, height);
    }

    /// @dev Records and mints a checked deposit; advances `cur` (the caller stores it).
    function _record(bytes32 key, DepositItem memory d, OrderCursor memory cur) private returns (uint64 sequence) {
        uint32 height = d.height;
        uint32 txIndex = d.txIndex;
        uint32 vout = d.vout;
        bool inOrder =
            cur.count == 0 ||
                height > cur.height ||
                (height == cur.height && (txIndex > cur.txIndex || (txIndex == cur.txIndex && vout > cur.vout)));
        sequence = cur.count + 1;
        cur.count = sequence;
        if (inOrder) {
            // A high-water mark: the furthest position confirmed so far.
            cur.height = height;
            cur.txIndex = txIndex;
            cur.vout = vout;
        }
        _deposits[key] = DepositRecord({
            sequence: sequence,
            blockHeight: height,
            txIndex: txIndex,
            vaultId: d.vaultId,
            inBitcoinOrder: inOrder
        });
        uint64 value = d.value;
        Vault storage v = _vaults[d.vaultId];
        uint64 fee = _fee(value, v.depositFeeBps, v.depositFlatFee);
        if (fee > value) fee = value;
        uint64 minted;
        v.custody += value;
        unchecked {
            // fee <= value, and fees accrue out of custody, which the line above bounds.
            v.accruedFees += fee;
            minted = value - fee;
        }
        if (minted != 0) _mint(d.recipient, minted);
        emit DepositConfirmed(d.txid, vout, d.recipient, value, minted, sequence);
    }

    /// @dev One walk over the outputs: the value and script hash of output `outputIndex`, and the recipient from
    ///      the transaction's single OP_RETURN output (exactly 0x6a14 || 20 bytes).
    function _scanDeposit(
        bytes calldata rawTx,
        uint32 outputIndex
    ) private pure returns (uint64 value, bytes32 scriptHash, address recipient) {
        (uint256 count, uint256 off) = BitcoinTxOutputs.outputsStart(rawTx);
        if (outputIndex >= count) revert OutputIndexOutOfRange(outputIndex, count);
        uint256 opIndex = NO_INDEX;
        for (uint256 i; i < count; ++i) {
            (uint64 v, uint256 so, uint256 sl, uint256 next) = BitcoinTxOutputs.readOutput(rawTx, off);
            if (i == outputIndex) {
                value = v;
                scriptHash = BitcoinTxOutputs.hashSlice(rawTx, so, sl);
            }
            if (sl != 0) {
                uint256 word = BitcoinTxOutputs.wordAt(rawTx, so);
                if ((word >> 248) == 0x6a) {
                    if (opIndex != NO_INDEX) revert MultipleOpReturns(opIndex, i);
                    opIndex = i;
                    if (sl != 22 || ((word >> 240) & 0xff) != 0x14) revert MalformedOpReturn(i);
                    recipient = address(uint160(word >> 80));
                }
            }
            off = next;
        }
        if (opIndex == NO_INDEX) revert MissingOpReturn();
        if (recipient == address(0)) revert ZeroRecipient();
    }

    /// @dev Checks a payout transaction's outputs against a withdrawal (see `finalizeWithdrawal`).
    function _checkPayout(bytes calldata rawTx, PayoutTerms memory t) private pure {
        uint64 id = t.id;
        (uint256 count, uint256 off) = BitcoinTxOutputs.outputsStart(rawTx);
        uint256 opIndex = NO_INDEX;
        uint256 payIndex = NO_INDEX;
        for (uint256 i; i < count; ++i) {
            (uint64 v, uint256 so, uint256 sl, uint256 next) = BitcoinTxOutputs.readOutput(rawTx, off);
            off = next;
            if (_isOpReturn(rawTx, so, sl)) {
                if (opIndex != NO_INDEX) revert MultipleOpReturns(opIndex, i);
                opIndex = i;
                uint64 got = _payoutId(rawTx, so, sl, i);
                if (got != id) revert PayoutIdMismatch(id, got);
                continue;
            }
            bytes32 h = BitcoinTxOutputs.hashSlice(rawTx, so, sl);
            if (bytes16(h) == t.userScriptHash) {
                if (payIndex != NO_INDEX) revert PayoutOutputRepeated(id, i);
                if (v != t.paid) revert PayoutAmountMismatch(id, t.paid, v);
                payIndex = i;
            } else if (h != t.custodyScriptHash) {
                revert UnexpectedPayoutOutput(id, i);
            }
        }
        if (opIndex == NO_INDEX) revert MissingOpReturn();
        if (payIndex == NO_INDEX) revert PayoutNotFound(id);
    }

    /// @dev Whether the script at `so` (length `sl`) starts with OP_RETURN.
    function _isOpReturn(bytes calldata rawTx, uint256 so, uint256 sl) private pure returns (bool) {
        return sl != 0 && (BitcoinTxOutputs.wordAt(rawTx, so) >> 248) == 0x6a;
    }

    /// @dev The id of a payout OP_RETURN script, which must be exactly 0x6a08 || id (8 bytes big-endian).
    function _payoutId(bytes calldata rawTx, uint256 so, uint256 sl, uint256 index) private pure returns (uint64) {
        uint256 word = BitcoinTxOutputs.wordAt(rawTx, so);
        if (sl != 10 || ((word >> 240) & 0xff) != 0x08) revert MalformedOpReturn(index);
        return uint64(word >> 176);
    }

    function _requestWithdrawal(uint32 vaultId, bytes calldata btcScript, uint64 sats) private returns (uint64 id) {
        bytes32 scriptHash = keccak256(btcScript);
        if (!_isPayableScript(btcScript) || _vaultOfScript[scriptHash] != 0) {
            revert UnsupportedWithdrawalScript(btcScript);
        }
        Vault storage v = _vaults[vaultId];
        uint64 fee = _fee(sats, v.withdrawalFeeBps, v.withdrawalFlatFee);
        if (sats < fee || sats - fee < DUST_LIMIT) revert WithdrawalTooSmall(sats, fee, DUST_LIMIT);
        token.burn(msg.sender, sats);
        v.pending += sats;
        id = ++withdrawalCount;
        // At least 20 minutes per required confirmation, so a slow run of Bitcoin blocks cannot make a prompt payout
        // unprovable before the deadline (at most 1000 * 20 minutes, under 14 days).
        uint256 window = uint256(v.confirmations) * 20 minutes;
        uint256 setWindow = withdrawalWindow;
        if (setWindow > window) window = setWindow;
        uint48 deadline = uint48(block.timestamp + window);
        _withdrawals[id] = Withdrawal({
            requester: msg.sender,
            vaultId: vaultId,
            status: WithdrawalStatus.Pending,
            sats: sats,
            fee: fee,
            deadline: deadline,
            btcScriptHash: bytes16(scriptHash)
        });
        emit WithdrawalRequested(id, vaultId, msg.sender, btcScript, sats, fee, deadline);
    }
}
