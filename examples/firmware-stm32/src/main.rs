//! NUCLEO-F429ZI: an installation kept alive on the device. At boot the provisioning
//! image (token set, client id, client secret: `picoauth login --provisioning-image`,
//! written by `probe-rs download` at `0x0811_0000`, see picoauth-embassy's README) is
//! moved into the token-set map on the internal flash and its region erased; then DHCP
//! over the on-board Ethernet (LAN8742A, RMII), and a loop: sleep until a refresh is
//! due, `access_token()` (refresh ahead of expiry, the answer on flash before the token
//! is used), one Slack `auth.test` call with the token. Certificate-verified TLS 1.3, no
//! global allocator, and nothing secret in the firmware image.
//!
//! Flash (bank 2, away from the code in bank 1): sectors 12-15 (4 x 16 KiB at
//! `0x0810_0000`) hold the `persist` map, sector 16 (64 KiB at `0x0811_0000`) the
//! provisioning image. Build-time setting (optional): `PICOAUTH_HOST` (default
//! `slack.com`). The trust anchors are the real roots of slack.com (ISRG Root X1) and
//! api.pinterest.com (DigiCert Global Root G2), from `picoauth_embassy::anchors`.
#![no_std]
#![no_main]

use defmt::{error, info, unwrap, warn};
use embassy_executor::Spawner;
use embassy_net::{Runner, StackResources};
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::flash::{self, Flash};
use embassy_stm32::peripherals::{ETH, ETH_SMA};
use embassy_stm32::rng::{self, Rng};
use embassy_stm32::time::Hertz;
use embassy_stm32::{bind_interrupts, eth, peripherals};
use embassy_time::{Instant, Timer};
use picoauth::provider::{Endpoint, SLACK_V2};
use picoauth::request::ClientAuth;
use picoauth_embassy::persist::TokenStore;
use picoauth_embassy::provision::{self, load_client};
use picoauth_embassy::{bearer_post, EmbassyNet, RefreshError, RefreshLoop, Storage, UnixClock};
use static_cell::{ConstStaticCell, StaticCell};
use {defmt_rtt as _, panic_probe as _};

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    HASH_RNG => rng::InterruptHandler<peripherals::RNG>;
    FLASH => flash::InterruptHandler;
});

type Device = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;

const fn env_or(v: Option<&'static str>, default: &'static str) -> &'static str {
    match v {
        Some(v) => v,
        None => default,
    }
}

const HOST: &str = env_or(option_env!("PICOAUTH_HOST"), "slack.com");

/// Token capacity in bytes (Slack tokens are under 100 bytes; room for rotation
/// formats), and scope capacity.
const TOKEN_CAP: usize = 512;
const SCOPE_CAP: usize = 256;
/// Refresh this many seconds before the access token expires.
const LEEWAY: u64 = 300;
/// The map: all of bank 2's four 16 KiB sectors (region-relative offsets).
const MAP: core::ops::Range<u32> = 0..64 * 1024;
/// The provisioning image: bank 2's 64 KiB sector (region-relative offsets).
const PROVISIONING: core::ops::Range<u32> = 0..64 * 1024;

/// The build time plus the uptime: enough for an example. A product reads the RTC
/// (kept by the backup battery) or sets it from SNTP before the first exchange.
struct BuildTimeClock;

impl UnixClock for BuildTimeClock {
    fn now() -> u64 {
        const BUILD: u64 = parse_u64(env!("PICOAUTH_BUILD_UNIX_TIME"));
        BUILD.saturating_add(Instant::now().as_secs())
    }
}

const fn parse_u64(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n: u64 = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    n
}

/// Stops here: the device needs a person (provisioning, or reauthorization).
async fn halt() -> ! {
    loop {
        Timer::after_secs(3600).await;
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Device>) -> ! {
    runner.run().await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let mut config = embassy_stm32::Config::default();
    {
        use embassy_stm32::rcc::*;
        // 8 MHz from the ST-LINK's MCO; SYSCLK 168 MHz, 48 MHz for the RNG.
        config.rcc.hse = Some(Hse {
            freq: Hertz(8_000_000),
            mode: HseMode::Bypass,
        });
        config.rcc.pll_src = PllSource::HSE;
        config.rcc.pll = Some(Pll {
            prediv: PllPreDiv::DIV4,
            mul: PllMul::MUL168,
            divp: Some(PllPDiv::DIV2),
            divq: Some(PllQDiv::DIV7),
            divr: None,
        });
        config.rcc.ahb_pre = AHBPrescaler::DIV1;
        config.rcc.apb1_pre = APBPrescaler::DIV4;
        config.rcc.apb2_pre = APBPrescaler::DIV2;
        config.rcc.sys = Sysclk::PLL1_P;
    }
    let p = embassy_stm32::init(config);
    info!("picoauth firmware: boot");

    // Provisioning, then the map's token set and client.
    let regions = Flash::new(p.FLASH, Irqs).into_regions();
    let mut provisioning = regions.bank2_region2;
    let mut store = unwrap!(TokenStore::new(regions.bank2_region1, MAP));
    static PROVISION_BUF: ConstStaticCell<[u8; 4096]> = ConstStaticCell::new([0; 4096]);
    let provision_buf = PROVISION_BUF.take();
    let started = Instant::now();
    match provision::provision::<_, _, TOKEN_CAP, SCOPE_CAP>(
        &mut provisioning,
        PROVISIONING,
        &mut store,
        provision_buf,
    )
    .await
    {
        Ok(what) => info!(
            "picoauth firmware: provisioning: {} ({} us)",
            what,
            started.elapsed().as_micros()
        ),
        Err(e) => {
            error!("picoauth firmware: provisioning failed: {}", e);
            halt().await
        }
    }
    // The client id and secret stay in this buffer for the life of the loop.
    static CLIENT_BUF: ConstStaticCell<[u8; 1024]> = ConstStaticCell::new([0; 1024]);
    let client = match load_client(&mut store, CLIENT_BUF.take()).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            error!("picoauth firmware: not provisioned (see the README: probe-rs download)");
            halt().await
        }
        Err(e) => {
            error!("picoauth firmware: reading the client failed: {}", e);
            halt().await
        }
    };
    let Some(secret) = client.client_secret else {
        error!("picoauth firmware: Slack needs a client secret");
        halt().await
    };
    static PROVIDER: StaticCell<picoauth::provider::Provider<'static>> = StaticCell::new();
    let provider =
        PROVIDER.init(SLACK_V2.with_endpoint(Endpoint::https(HOST, "/api/oauth.v2.access")));
    let auth = ClientAuth::basic(client.client_id, secret);
    let mut refresh: RefreshLoop<'_, _, BuildTimeClock, TOKEN_CAP, SCOPE_CAP> =
        match RefreshLoop::open(&mut store, provider, auth, LEEWAY, provision_buf).await {
            Ok(l) => l,
            Err(e) => {
                error!("picoauth firmware: no token set: {}", e);
                halt().await
            }
        };
    info!(
        "picoauth firmware: token set read ({} us since boot)",
        started.elapsed().as_micros()
    );

    let mut rng = Rng::new(p.RNG, Irqs);
    let mut seed = [0; 8];
    unwrap!(rng.async_fill_bytes(&mut seed).await);

    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::<4, 4>::new()),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        [0x02, 0x00, 0x00, 0x29, 0xf4, 0x29],
        p.ETH_SMA,
        p.PA2,
        p.PC1,
    );

    static RESOURCES: StaticCell<StackResources<3>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        u64::from_le_bytes(seed),
    );
    spawner.spawn(unwrap!(net_task(runner)));
    stack.wait_config_up().await;
    info!("picoauth firmware: network up");

    // 28,928 bytes of buffers in .bss, not on a stack; the refresh and the API call
    // take turns with them.
    static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(Storage::new());
    let storage = STORAGE.take();
    let (buffers, buf) = storage.split();
    static CONFIG: StaticCell<picoauth_embassy::Config<'static, BuildTimeClock>> =
        StaticCell::new();
    let config = CONFIG.init(picoauth_embassy::Config::new(
        picoauth_embassy::anchors::SLACK_AND_PINTEREST,
        BuildTimeClock,
    ));
    let mut net = EmbassyNet {
        stack,
        config,
        buffers,
        rng,
    };
    let auth_test = Endpoint::https(HOST, "/api/auth.test");

    loop {
        if let Some(due) = refresh.refresh_due_at() {
            let now = BuildTimeClock::now();
            if due > now {
                Timer::after_secs(due - now).await;
            }
        }
        let token = match refresh.access_token(&mut net, buf).await {
            Ok(t) => t,
            Err(RefreshError::NeedsReauthorization(reason)) => {
                error!(
                    "picoauth firmware: needs reauthorization ({}): provision a new image",
                    reason
                );
                halt().await
            }
            Err(RefreshError::RateLimited { retry_after_secs }) => {
                warn!("picoauth firmware: rate limited for {} s", retry_after_secs);
                Timer::after_secs(retry_after_secs).await;
                continue;
            }
            Err(e) => {
                warn!("picoauth firmware: refresh failed: {}; retrying in 60 s", e);
                Timer::after_secs(60).await;
                continue;
            }
        };
        info!("picoauth firmware: access token ready");
        // One API call with the token (the refresh's buffers are free again).
        match bearer_post(
            stack,
            &auth_test,
            token.expose(),
            config,
            net.buffers.reborrow(),
            &mut net.rng,
            buf,
        )
        .await
        {
            Ok(r) => info!("picoauth firmware: auth.test answered HTTP {}", r.status),
            Err(e) => warn!("picoauth firmware: auth.test failed: {}", e),
        }
        buf.fill(0);
        // Without an expiry (a token that never expires) there is nothing to wait for:
        // one call an hour.
        if refresh.refresh_due_at().is_none() {
            Timer::after_secs(3600).await;
        }
    }
}
